package wire

// Errmsg returns the exact errmsg WeChat sends with code (protocol §7), without any rid suffix,
// and whether the code is in the catalog.
func Errmsg(code int) (string, bool) { panic("unimplemented") }
