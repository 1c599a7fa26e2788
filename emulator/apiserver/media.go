package apiserver

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// mediaPart reads the file in part "media" of a multipart body. present is false when the body
// is not multipart/form-data or has no file part named media; the operation answers that (41005).
// The part's Content-Type is not read: WeChat goes by the content.
//
// The body is streamed part by part (never ParseMultipartForm, which buffers a large part in a
// temporary file): the parts before "media" are skipped, "media" is read up to maxUploadBody and
// refused as soon as it passes it, and nothing after it is read.
func (c *call) mediaPart() (data []byte, filename string, present bool, err error) {
	if !isMultipart(c.r) {
		return nil, "", false, nil
	}
	mr, err := c.r.MultipartReader()
	if err != nil {
		// A body that does not parse as multipart carries no media.
		return nil, "", false, nil
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			if c.isTooLarge(err) {
				return nil, "", false, tooLarge(c.rt, maxUploadBody)
			}
			return nil, "", false, nil // the end, or a body that stops being multipart
		}
		if part.FormName() != "media" || part.FileName() == "" {
			continue // NextPart skips the rest of this part, within the body's bound
		}
		data, err = io.ReadAll(io.LimitReader(part, maxUploadBody+1))
		if err != nil {
			if c.isTooLarge(err) {
				return nil, "", false, tooLarge(c.rt, maxUploadBody)
			}
			return nil, "", false, nil // a part cut short carries no media, as before
		}
		if len(data) > maxUploadBody {
			return nil, "", false, tooLarge(c.rt, maxUploadBody)
		}
		return data, part.FileName(), true, nil
	}
}

func (c *call) isTooLarge(err error) bool {
	var tooBig *http.MaxBytesError
	return errors.As(err, &tooBig)
}

// uploadMedia serves POST /cgi-bin/media/upload?type=TYPE, multipart with the file in part
// "media" (protocol §4.4).
func uploadMedia(c *call) (any, error) {
	data, filename, present, err := c.mediaPart()
	if err != nil {
		return nil, err
	}
	m, err := c.s.p.UploadMedia(c.ctx, c.app, c.query("type"), filename, data, present)
	if err != nil {
		return nil, err
	}
	body := map[string]any{"type": m.Type, "media_id": m.ID, "created_at": m.Created.Unix()}
	if m.Type == "thumb" {
		// Deviation: older docs and SDKs read thumb_media_id for thumbs (protocol §4.4, §10.16);
		// wxemu answers both keys.
		body["thumb_media_id"] = m.ID
	}
	return body, nil
}

// getMedia serves GET /cgi-bin/media/get: the file itself, or for a video a JSON video_url
// (protocol §4.4).
func getMedia(c *call) (any, error) {
	m, err := c.s.p.GetMedia(c.app, c.query("media_id"))
	if err != nil {
		return nil, err
	}
	if m.Type == "video" {
		return map[string]string{"video_url": fmt.Sprintf("http://%s/_emu/v1/media/%s", c.r.Host, m.ID)}, nil
	}
	h := http.Header{}
	h.Set("Content-Disposition", attachment(m.Filename))
	return raw{contentType: mediaType(m.ContentType), header: h, body: m.Data}, nil
}

// attachment is the Content-Disposition of /cgi-bin/media/get: `attachment; filename="…"`, the
// name always quoted, as WeChat writes it (protocol §4.4) and as SDKs that save the file under
// it parse it.
//
// Deviation: WeChat names the file itself (its docs show MEDIA_ID.jpg); wxemu gives back the
// name it was uploaded with, each character outside printable ASCII, each quote and each
// backslash replaced by '_', so the header is plain ASCII for every client.
func attachment(name string) string {
	b := make([]byte, 0, len(`attachment; filename=""`)+len(name))
	b = append(b, `attachment; filename="`...)
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			r = '_'
		}
		b = append(b, byte(r))
	}
	return string(append(b, '"'))
}

// downloadMedia serves GET /_emu/v1/media/{id}: the bytes of a video, whose /cgi-bin/media/get
// answer is a video_url pointing here, as WeChat's points to its CDN.
func downloadMedia(c *call) (any, error) {
	m, err := c.s.p.MediaByID(c.pathVar("id"))
	if err != nil {
		return nil, err
	}
	// The console is served from the same origin: a file is shown as what it is, never run.
	h := http.Header{}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	return raw{contentType: mediaType(m.ContentType), header: h, body: m.Data}, nil
}

func mediaType(ct string) string {
	if ct == "" {
		return "application/octet-stream"
	}
	return ct
}
