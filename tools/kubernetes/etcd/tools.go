//go:build tools

// The command setup.sh builds; this file only pins it in go.mod.
package tools

import _ "go.etcd.io/etcd/server/v3"
