package state_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/state"
)

// Files that pass the sniffing: the magic bytes of each format, padded to size.
func file(magic string, size int) []byte {
	b := make([]byte, size)
	copy(b, magic)
	return b
}

const (
	pngMagic  = "\x89PNG\r\n\x1a\n"
	jpegMagic = "\xff\xd8\xff\xe0"
	gifMagic  = "GIF89a"
	amrMagic  = "#!AMR\n"
	mp3ID3    = "ID3\x04"
	mp3Frame  = "\xff\xfb\x90\x64" // MPEG-1 layer III
	adtsFrame = "\xff\xf1\x50\x80" // AAC: frame sync but layer 0
	mp4Magic  = "\x00\x00\x00\x18ftypmp42"
)

var _ = Describe("MediaStore", func() {
	var store *state.MediaStore
	BeforeEach(func() { store = state.NewMediaStore(seeded(7)) })

	upload := func(app, kind, typ, name string, data []byte) (state.Media, error) {
		return store.Upload(app, kind, typ, name, data, t0)
	}

	DescribeTable("accepts every documented format",
		func(kind, typ, name, magic string, size int, contentType string) {
			data := file(magic, size)
			m, err := upload(oaApp, kind, typ, name, data)
			Expect(err).NotTo(HaveOccurred())
			Expect(m.ID).To(MatchRegexp(`^[A-Za-z0-9_-]{64}$`))
			Expect(m).To(Equal(state.Media{
				ID: m.ID, AppID: oaApp, Type: typ, Filename: name, ContentType: contentType,
				Size: size, Created: t0, Expires: t0.Add(72 * time.Hour), Data: data,
			}))
			got, err := store.Get(oaApp, m.ID, t0)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(m))
			Expect(store.Exists(oaApp, m.ID, t0)).To(BeTrue())
		},
		Entry("PNG image", "oa", "image", "a.png", pngMagic, 100, "image/png"),
		Entry("JPEG image named .jpg", "oa", "image", "a.JPG", jpegMagic, 100, "image/jpeg"),
		Entry("JPEG image named .jpeg", "oa", "image", "a.jpeg", jpegMagic, 100, "image/jpeg"),
		Entry("GIF image", "oa", "image", "a.gif", gifMagic, 100, "image/gif"),
		Entry("a 10 MB image", "oa", "image", "a.png", pngMagic, 10<<20, "image/png"),
		Entry("a Mini Program image", "mp", "image", "a.png", pngMagic, 100, "image/png"),
		Entry("AMR voice", "oa", "voice", "a.amr", amrMagic, 100, "audio/amr"),
		Entry("MP3 voice with an ID3 tag", "oa", "voice", "a.mp3", mp3ID3, 100, "audio/mpeg"),
		Entry("MP3 voice starting with a frame", "oa", "voice", "a.mp3", mp3Frame, 100, "audio/mpeg"),
		Entry("a 2 MB voice", "oa", "voice", "a.amr", amrMagic, 2<<20, "audio/amr"),
		Entry("MP4 video", "oa", "video", "a.mp4", mp4Magic, 100, "video/mp4"),
		Entry("a 10 MB video", "oa", "video", "a.mp4", mp4Magic, 10<<20, "video/mp4"),
		Entry("JPG thumb", "oa", "thumb", "a.jpg", jpegMagic, 100, "image/jpeg"),
		Entry("a 64 KB thumb", "oa", "thumb", "a.jpg", jpegMagic, 64<<10, "image/jpeg"),
	)

	DescribeTable("rejects uploads as WeChat does",
		func(kind, typ, name string, data []byte, want error) {
			_, err := upload(oaApp, kind, typ, name, data)
			Expect(err).To(MatchError(want))
		},
		Entry("40004 for an unknown type", "oa", "file", "a.png", file(pngMagic, 10), state.ErrMediaType),
		Entry("40004 for news", "oa", "news", "a.png", file(pngMagic, 10), state.ErrMediaType),
		Entry("40004 for a Mini Program voice", "mp", "voice", "a.amr", file(amrMagic, 10), state.ErrMediaType),
		Entry("40004 for a Mini Program thumb", "mp", "thumb", "a.jpg", file(jpegMagic, 10), state.ErrMediaType),
		Entry("41005 without a file part", "oa", "image", "", nil, state.ErrMediaMissing),
		Entry("44001 for zero bytes", "oa", "image", "a.png", []byte{}, state.ErrMediaEmpty),
		Entry("40005 for a BMP image", "oa", "image", "a.bmp", file("BM", 10), state.ErrFileType),
		Entry("40005 for a name without extension", "oa", "image", "image", file(pngMagic, 10), state.ErrFileType),
		Entry("40005 for text named .png", "oa", "image", "a.png", []byte("hello"), state.ErrFileType),
		Entry("40005 for a PNG thumb", "oa", "thumb", "a.png", file(pngMagic, 10), state.ErrFileType),
		Entry("40005 for a PNG named .jpg as thumb", "oa", "thumb", "a.jpg", file(pngMagic, 10), state.ErrFileType),
		Entry("40005 for an MP3 named .mp4", "oa", "video", "a.mp4", file(mp3ID3, 10), state.ErrFileType),
		Entry("40005 for AAC named .mp3", "oa", "voice", "a.mp3", file(adtsFrame, 10), state.ErrFileType),
		Entry("40005 for a WAV voice", "oa", "voice", "a.wav", file("RIFF", 10), state.ErrFileType),
		Entry("40005 for a video sent as voice", "oa", "voice", "a.mp4", file(mp4Magic, 20), state.ErrFileType),
		Entry("45001 for an image over 10 MB", "oa", "image", "a.png", file(pngMagic, 10<<20+1), state.ErrMediaTooLarge),
		Entry("45001 for a voice over 2 MB", "oa", "voice", "a.amr", file(amrMagic, 2<<20+1), state.ErrMediaTooLarge),
		Entry("45001 for a video over 10 MB", "oa", "video", "a.mp4", file(mp4Magic, 10<<20+1), state.ErrMediaTooLarge),
		Entry("45001 for a thumb over 64 KB", "oa", "thumb", "a.jpg", file(jpegMagic, 64<<10+1), state.ErrMediaTooLarge),
	)

	It("accepts a PNG named .jpg as an image, as WeChat is not known to compare the two", func() {
		_, err := upload(oaApp, "oa", "image", "photo.jpg", file(pngMagic, 10))
		Expect(err).NotTo(HaveOccurred())
	})

	It("can hold images to the older 2 MB limit", func() {
		store.ImageLimit = state.OldImageLimit
		_, err := upload(oaApp, "oa", "image", "a.png", file(pngMagic, 2<<20))
		Expect(err).NotTo(HaveOccurred())
		_, err = upload(oaApp, "oa", "image", "a.png", file(pngMagic, 2<<20+1))
		Expect(err).To(MatchError(state.ErrMediaTooLarge))
	})

	It("refuses an unknown kind of app as a programming error", func() {
		_, err := upload(oaApp, "game", "image", "a.png", file(pngMagic, 10))
		Expect(err).To(HaveOccurred())
		for _, sentinel := range []error{state.ErrMediaType, state.ErrFileType, state.ErrMediaMissing} {
			Expect(err).NotTo(MatchError(sentinel))
		}
	})

	It("keeps the name without directories, and the content's own type", func() {
		m, err := store.Upload(oaApp, "oa", "image", `C:\pics\cat.jpg`, file(pngMagic, 10), t0)
		Expect(err).NotTo(HaveOccurred())
		Expect(m.Filename).To(Equal("cat.jpg"))
		Expect(m.ContentType).To(Equal("image/png"), "a PNG named .jpg is served as what it is")
		m, err = upload(oaApp, "oa", "image", "/tmp/dog.gif", file(gifMagic, 10))
		Expect(err).NotTo(HaveOccurred())
		Expect(m.Filename).To(Equal("dog.gif"))
	})

	It("keeps a media id for 3 days", func() {
		m, err := upload(oaApp, "oa", "image", "a.png", file(pngMagic, 10))
		Expect(err).NotTo(HaveOccurred())
		last := t0.Add(72*time.Hour - time.Nanosecond)
		Expect(store.Exists(oaApp, m.ID, last)).To(BeTrue())
		_, err = store.Get(oaApp, m.ID, last)
		Expect(err).NotTo(HaveOccurred())
		_, err = store.Get(oaApp, m.ID, t0.Add(72*time.Hour))
		Expect(err).To(MatchError(state.ErrMediaUnknown))
		Expect(store.Exists(oaApp, m.ID, t0.Add(72*time.Hour))).To(BeFalse())
	})

	It("does not let another app use a media id", func() {
		m, err := upload(oaApp, "oa", "image", "a.png", file(pngMagic, 10))
		Expect(err).NotTo(HaveOccurred())
		_, err = store.Get(mpApp, m.ID, t0)
		Expect(err).To(MatchError(state.ErrMediaUnknown))
		Expect(store.Exists(mpApp, m.ID, t0)).To(BeFalse())
		Expect(store.Exists(oaApp, m.ID, t0)).To(BeTrue())
	})

	It("does not know made-up ids", func() {
		_, err := store.Get(oaApp, strings.Repeat("A", 64), t0)
		Expect(err).To(MatchError(state.ErrMediaUnknown))
		_, err = store.Get(oaApp, "", t0)
		Expect(err).To(MatchError(state.ErrMediaUnknown))
	})

	It("keeps its own copy of the bytes and hands out copies", func() {
		data := file(pngMagic, 10)
		m, err := upload(oaApp, "oa", "image", "a.png", data)
		Expect(err).NotTo(HaveOccurred())
		data[9], m.Data[8] = 1, 2
		got, err := store.Get(oaApp, m.ID, t0)
		Expect(err).NotTo(HaveOccurred())
		Expect(got.Data).To(Equal(file(pngMagic, 10)))
		got.Data[7] = 3
		s := store.Snapshot()
		s[0].Data[6] = 4
		got, _ = store.Get(oaApp, m.ID, t0)
		Expect(got.Data).To(Equal(file(pngMagic, 10)))
	})

	It("lets go of expired files", func() {
		first, err := upload(oaApp, "oa", "image", "a.png", file(pngMagic, 10))
		Expect(err).NotTo(HaveOccurred())
		_, err = store.Upload(oaApp, "oa", "image", "a.png", file(pngMagic, 10), t0.Add(time.Hour))
		Expect(err).NotTo(HaveOccurred())
		_, err = store.Upload(oaApp, "oa", "image", "a.png", file(pngMagic, 10), t0.Add(72*time.Hour))
		Expect(err).NotTo(HaveOccurred())
		ids := func() (ids []string) {
			for _, m := range store.Snapshot() {
				ids = append(ids, m.ID)
			}
			return ids
		}
		Expect(ids()).To(HaveLen(2))
		Expect(ids()).NotTo(ContainElement(first.ID))
		Expect(store.Exists(oaApp, first.ID, t0.Add(73*time.Hour))).To(BeFalse())
		Expect(ids()).To(HaveLen(1))
		for i := range 1000 {
			_, err := store.Upload(oaApp, "oa", "image", "a.png", file(pngMagic, 10), t0.Add(time.Duration(i)*time.Hour))
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(len(ids())).To(BeNumerically("<=", 72))
	})

	It("lets go of expired files restored from an export", func() {
		for i := range 3 {
			_, err := store.Upload(oaApp, "oa", "image", "a.png", file(pngMagic, 10), t0.Add(time.Duration(2-i)*time.Hour))
			Expect(err).NotTo(HaveOccurred())
		}
		restored := state.NewMediaStore(seeded(9))
		restored.Restore(store.Snapshot())
		Expect(restored.Exists(oaApp, "none", t0.Add(73*time.Hour+time.Nanosecond))).To(BeFalse())
		Expect(restored.Snapshot()).To(HaveLen(1))
	})

	It("forgets everything on Reset", func() {
		m, err := upload(oaApp, "oa", "image", "a.png", file(pngMagic, 10))
		Expect(err).NotTo(HaveOccurred())
		store.Reset()
		Expect(store.Exists(oaApp, m.ID, t0)).To(BeFalse())
		Expect(store.Snapshot()).To(BeEmpty())
	})

	It("exports and imports through JSON, with the bytes in base64", func() {
		a, err := upload(oaApp, "oa", "image", "a.png", file(pngMagic, 10))
		Expect(err).NotTo(HaveOccurred())
		b, err := upload(mpApp, "mp", "image", "b.gif", file(gifMagic, 12))
		Expect(err).NotTo(HaveOccurred())

		js, err := json.Marshal(store.Snapshot())
		Expect(err).NotTo(HaveOccurred())
		Expect(string(js)).To(ContainSubstring(`"media_id":"` + a.ID + `"`))
		Expect(string(js)).To(ContainSubstring(`"data":"iVBORw0KGgo`))
		Expect(bytes.Count(js, []byte(`"data"`))).To(Equal(2))

		var snap []state.MediaSnapshot
		Expect(json.Unmarshal(js, &snap)).To(Succeed())
		restored := state.NewMediaStore(seeded(8))
		restored.Restore(snap)
		for _, m := range []state.Media{a, b} {
			got, err := restored.Get(m.AppID, m.ID, t0.Add(time.Hour))
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Data).To(Equal(m.Data))
			Expect(got.Created.Equal(m.Created)).To(BeTrue())
			Expect(got.Size).To(Equal(m.Size))
		}
		Expect(restored.Exists(oaApp, a.ID, t0.Add(72*time.Hour))).To(BeFalse())
	})

	It("reports a failing random source", func() {
		broken := state.NewMediaStore(strings.NewReader("short"))
		_, err := broken.Upload(oaApp, "oa", "image", "a.png", file(pngMagic, 10), t0)
		Expect(err).To(HaveOccurred())
	})
})
