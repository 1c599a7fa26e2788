package state

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// maxRecords bounds the records kept per app; once twice as many pile up the oldest go, so
// trimming costs one copy per maxRecords appends.
//
// Deviation: WeChat keeps records longer than the emulator needs them (protocol §5.3).
const maxRecords = 100000

// getmsglist limits (protocol §5.3).
const (
	maxRecordRange = 24 * time.Hour
	maxRecordPage  = 10000
)

// Record adds a line to the message records. Records are kept in time order, not in the order
// they arrive, because an expiry is recorded at its deadline after later messages may have
// been.
func (k *KF) Record(app string, r Record) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a := k.app(app)
	i := len(a.records)
	if i > 0 && a.records[i-1].Time.After(r.Time) {
		i = sort.Search(len(a.records), func(j int) bool { return a.records[j].Time.After(r.Time) })
	}
	a.records = slices.Insert(a.records, i, r)
	if len(a.records) > 2*maxRecords {
		a.records = slices.Clone(a.records[len(a.records)-maxRecords:])
	}
}

// RecordsOf lists the records of one agent, oldest first.
func (k *KF) RecordsOf(app, account string) []Record {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := []Record{}
	if a, ok := k.apps[app]; ok {
		for _, r := range a.records {
			if r.Worker == account {
				out = append(out, r)
			}
		}
	}
	return out
}

// Records is /customservice/msgrecord/getmsglist (protocol §5.3): the records with
// start <= Time <= end in time order, from the msgid-th (1-based) on, at most number of them.
// nextMsgID is the msgid that asks for the page after; with nothing left it is msgid itself.
func (k *KF) Records(app string, start, end time.Time, msgid int64, number int) (list []Record, nextMsgID int64, err error) {
	switch {
	case end.Sub(start) > maxRecordRange:
		return nil, 0, fmt.Errorf("get msg list: %w: %s from starttime to endtime", ErrKfRangeTooLong, end.Sub(start))
	case msgid < 1 || number < 1 || number > maxRecordPage || end.Before(start):
		return nil, 0, fmt.Errorf("get msg list: %w: msgid starts at 1, number is 1 to %d, endtime is not before starttime", ErrKfParamInvalid, maxRecordPage)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	a, ok := k.apps[app]
	if !ok {
		return []Record{}, msgid, nil
	}
	lo := sort.Search(len(a.records), func(i int) bool { return !a.records[i].Time.Before(start) })
	hi := sort.Search(len(a.records), func(i int) bool { return a.records[i].Time.After(end) })
	if msgid-1 >= int64(hi-lo) {
		return []Record{}, msgid, nil
	}
	from := lo + int(msgid-1)
	to := min(from+number, hi)
	return slices.Clone(a.records[from:to]), msgid + int64(to-from), nil
}
