// Command etcd is the etcd server, built from the module proxy so tests need no download
// outside Go's own toolchain.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
