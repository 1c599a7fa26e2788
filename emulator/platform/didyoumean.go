package platform

import (
	"fmt"

	"github.com/wxemu/wxemu/emulator/config"
)

// DidYouMean suggests the closest of names to s, as ` (did you mean "x"?)`, or "" when none is
// close enough to be a likely typo (config.Suggest decides, as for config and scenario files).
func DidYouMean(s string, names []string) string {
	best, ok := config.Suggest(s, names)
	if !ok {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}
