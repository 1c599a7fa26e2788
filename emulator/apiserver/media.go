package apiserver

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// mediaPart reads the file in part "media" of a multipart body. present is false when the body
// is not multipart/form-data or has no part named media; the operation answers that (41005).
// The part's Content-Type is not read: WeChat goes by the content.
func (c *call) mediaPart() (data []byte, filename string, present bool, err error) {
	if !isMultipart(c.r) {
		return nil, "", false, nil
	}
	if err := c.r.ParseMultipartForm(maxUploadBody); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, "", false, tooLarge(c.rt, maxUploadBody)
		}
		// A body that does not parse as multipart carries no media.
		return nil, "", false, nil
	}
	file, header, err := c.r.FormFile("media")
	if err != nil {
		return nil, "", false, nil
	}
	defer file.Close()
	data, err = io.ReadAll(file)
	if err != nil {
		return nil, "", false, fmt.Errorf("read part media: %w", err)
	}
	return data, header.Filename, true, nil
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
	return raw{contentType: mediaType(m.ContentType), body: m.Data}, nil
}

func mediaType(ct string) string {
	if ct == "" {
		return "application/octet-stream"
	}
	return ct
}
