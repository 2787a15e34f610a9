package gateway

import "os"

var osReadFile = os.ReadFile
