package emulator

import "github.com/wxemu/wxemu/emulator/platform"

// StartRecording starts recording the session as a scenario under name (see
// platform.StartRecording); POST /_emu/v1/recording/start does the same.
func (e *Emulator) StartRecording(name string) (platform.RecordingStatus, error) {
	return e.p.StartRecording(name)
}

// Recording says whether a recording runs, since which journal entry, and its actions so far.
func (e *Emulator) Recording() platform.RecordingStatus { return e.p.Recording() }

// StopRecording ends the recording and returns its scenario file.
func (e *Emulator) StopRecording() (platform.Recorded, error) { return e.p.StopRecording() }
