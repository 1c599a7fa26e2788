package state

import (
	"sort"
	"time"
)

// List returns the files of an app (every app when appid is empty) that are live at now,
// without their bytes, oldest first.
func (s *MediaStore) List(appid string, now time.Time) []Media {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Media, 0, len(s.byID))
	for _, m := range s.byID {
		if (appid == "" || m.AppID == appid) && now.Before(m.Expires) {
			c := *m
			c.Data = nil
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out
}
