//go:build nowsup

package echo

import (
	"errors"
	"net/http"
)

// errWsupUnavailable is returned when the wsup server is excluded from the
// build with -tags nowsup (useful while the root package is mid-edit and
// does not compile).
var errWsupUnavailable = errors.New("echo: wsup server excluded by the nowsup build tag")

// wsupHandler reports that the wsup server is not part of this build.
func wsupHandler(Options) (http.Handler, error) { return nil, errWsupUnavailable }

// wsupUpgradeHandler reports that the wsup server is not part of this build.
func wsupUpgradeHandler(Options) (http.Handler, error) { return nil, errWsupUnavailable }

// wsupBroadcast reports that the wsup server is not part of this build.
func wsupBroadcast(Options) (http.Handler, error) { return nil, errWsupUnavailable }
