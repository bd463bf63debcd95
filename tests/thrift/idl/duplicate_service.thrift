// Two services named S: the second (line 3) is the error.
service S { void f() }
service S { void g() }
