// Command wxemu is an emulator of the WeChat server for customer-service bots of Official
// Accounts and Mini Programs. Each subcommand lives in its own file.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
