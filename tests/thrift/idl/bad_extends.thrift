service A extends Nope {
  void f()
}
