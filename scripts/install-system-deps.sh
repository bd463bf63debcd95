#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, when any is missing.
# Real servers (redis-server, mariadbd) are started by the tests themselves on free ports.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have thrift || need+=(thrift-compiler)
have redis-server || need+=(redis-server)
have redis-cli || need+=(redis-tools)
have redis-benchmark || need+=(redis-tools)
{ have mariadbd || [ -x /usr/sbin/mariadbd ]; } || need+=(mariadb-server)
have mariadb || need+=(mariadb-client)
[ -f /usr/share/java/thrift.jar ] || need+=(libthrift-java)
have javac || need+=(default-jdk-headless)
have node || need+=(nodejs)
have npm || need+=(npm)
# bench/thrift_serve.py's C++ baseline server (thrift --gen cpp + g++)
[ -f /usr/include/thrift/Thrift.h ] || need+=(libthrift-dev)
[ -f /usr/include/boost/numeric/conversion/cast.hpp ] || need+=(libboost-dev)
have g++ || need+=(g++)
# ZooKeeper for the stack serverset registration tests
[ -x /usr/share/zookeeper/bin/zkServer.sh ] || need+=(zookeeper)
# optional fast MySQL driver (pip install '.[fast-mysql]': mysqlclient) used by bench/snapshot.py
[ -f /usr/include/mariadb/mysql.h ] || need+=(libmariadb-dev)
have pkg-config || need+=(pkg-config)
# container tests: the Docker engine, and debootstrap for the offline base image (scripts/make-offline-base.sh)
have dockerd || need+=(docker.io)
have debootstrap || need+=(debootstrap)
have docker-compose || need+=(docker-compose)

if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
