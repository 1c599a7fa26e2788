package apiserver

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/wxemu/wxemu/emulator/wire"
)

// uploadMedia serves POST /cgi-bin/media/upload?type=TYPE, multipart with the file in part
// "media" (protocol §4.4).
func uploadMedia(c *call) response {
	typ := c.query("type")
	if !isMultipart(c.r) {
		m, err := c.s.p.UploadMedia(c.app, typ, "", "", nil, false)
		if err != nil {
			return c.s.fromError(fmt.Errorf("the body is not multipart/form-data with a part named media: %w", err))
		}
		return ok(m)
	}
	if err := c.r.ParseMultipartForm(maxUploadBody); err != nil {
		if errors.Is(err, http.ErrNotMultipart) || errors.Is(err, http.ErrMissingBoundary) {
			return c.s.apiError(wire.CodeMediaDataMissing, "multipart body: "+err.Error())
		}
		return c.s.apiError(wire.CodeMediaSizeLimit, "multipart body: "+err.Error())
	}
	file, header, err := c.r.FormFile("media")
	present := err == nil
	var data []byte
	var filename, contentType string
	if present {
		defer file.Close()
		data, err = io.ReadAll(file)
		if err != nil {
			return c.s.apiError(wire.CodeMediaDataMissing, "read part media: "+err.Error())
		}
		filename, contentType = header.Filename, header.Header.Get("Content-Type")
	}
	m, err := c.s.p.UploadMedia(c.app, typ, filename, contentType, data, present)
	if err != nil {
		return c.s.fromError(err)
	}
	body := map[string]any{"type": m.Type, "media_id": m.ID, "created_at": m.Created.Unix()}
	if m.Type == "thumb" {
		// Deviation: older docs and SDKs read thumb_media_id for thumbs (protocol §4.4, §10.16);
		// wxemu answers both keys.
		body["thumb_media_id"] = m.ID
	}
	return ok(body)
}

// getMedia serves GET /cgi-bin/media/get: the file itself, or for a video a JSON video_url
// (protocol §4.4).
func getMedia(c *call) response {
	m, err := c.s.p.GetMedia(c.app, c.query("media_id"))
	if err != nil {
		return c.s.fromError(err)
	}
	if m.Type == "video" {
		return ok(map[string]string{"video_url": fmt.Sprintf("http://%s/_emu/v1/media/%s", c.r.Host, m.ID)})
	}
	ct := m.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := http.Header{}
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": m.Filename}))
	return response{status: 200, contentType: ct, header: h, body: m.Data}
}

// downloadMedia serves GET /_emu/v1/media/{id}: the bytes of a video, whose /cgi-bin/media/get
// answer is a video_url pointing here, as WeChat's points to its CDN.
func downloadMedia(c *call) response {
	id := c.pathVar("id")
	for _, a := range c.s.p.Apps() {
		if m, err := c.s.p.GetMedia(a, id); err == nil {
			ct := m.ContentType
			if ct == "" {
				ct = "application/octet-stream"
			}
			return response{status: 200, contentType: ct, body: m.Data}
		}
	}
	return controlError(http.StatusNotFound, "no media %q, or it has expired", id)
}
