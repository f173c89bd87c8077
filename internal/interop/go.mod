module github.com/wsup/websocket/internal/interop

go 1.25

replace github.com/wsup/websocket => ../..

require (
	github.com/coder/websocket v1.8.15
	github.com/gorilla/websocket v1.5.3
	github.com/stretchr/testify v1.10.0
	github.com/wsup/websocket v0.0.0-00010101000000-000000000000
	golang.org/x/net v0.50.0
)

require (
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	golang.org/x/text v0.34.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
