package imbotv2

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/b24go/sdk/bitrix"
)

// MaxFileSize is the largest upload, before Base64 (the content field of
// imbot.v2.File.upload: 100 MB).
const MaxFileSize = 100 << 20

// FileService groups the imbot.v2.File.* methods ([docs]).
//
// [docs]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/files/index.html
type FileService struct{ c *Client }

// File is an uploaded [file].
//
// [file]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/entities.html#file
type File struct {
	ID        int    `json:"id"`
	ChatID    int    `json:"chatId"`
	Date      string `json:"date,omitempty"`
	Type      string `json:"type,omitempty"` // file, image, video, audio
	Name      string `json:"name"`
	Extension string `json:"extension"`
	Size      int64  `json:"size"`
	// Image holds the preview size of images ({"height":600,"width":800});
	// nil for other files (the portal sends false).
	Image           *ImageSize  `json:"image,omitempty"`
	AuthorID        int         `json:"authorId,omitempty"`
	AuthorName      string      `json:"authorName,omitempty"`
	IsTranscribable bitrix.Bool `json:"isTranscribable,omitempty"`
	IsVideoNote     bitrix.Bool `json:"isVideoNote,omitempty"`
	IsVoiceNote     bitrix.Bool `json:"isVoiceNote,omitempty"`
}

// ImageSize is the preview size of an image file.
type ImageSize struct {
	Height int `json:"height"`
	Width  int `json:"width"`
}

// UnmarshalJSON accepts the object and false.
func (s *ImageSize) UnmarshalJSON(b []byte) error {
	if t := strings.TrimSpace(string(b)); t == "false" || t == "null" {
		*s = ImageSize{}
		return nil
	}
	type plain ImageSize
	return json.Unmarshal(b, (*plain)(s))
}

// Upload is the request of [FileService.Upload].
type Upload struct {
	Name    string // file name with extension (required)
	Content []byte // the file; sent as Base64
	Message string // text sent with the file
}

// UploadResult is the answer of File.upload.
type UploadResult struct {
	File      File   `json:"file"`
	MessageID int    `json:"messageId"`
	ChatID    int    `json:"chatId"`
	DialogID  string `json:"dialogId"`
}

// Upload calls imbot.v2.File.upload: the file goes
// to the dialog as a message of the bot.
//
// Bitrix24 method: [imbot.v2.File.upload].
//
// [imbot.v2.File.upload]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/files/file-upload.html
func (s *FileService) Upload(ctx context.Context, botID int, dialog DialogID, u Upload) (*UploadResult, error) {
	const m = "imbot.v2.File.upload"
	if err := checkBotDialog(m, botID, dialog); err != nil {
		return nil, err
	}
	if strings.TrimSpace(u.Name) == "" || strings.ContainsAny(u.Name, "/\\") {
		return nil, invalid(m, "fields.name", "want a file name without path")
	}
	if len(u.Content) == 0 {
		return nil, invalid(m, "fields.content", "empty file")
	}
	if len(u.Content) > MaxFileSize {
		return nil, invalid(m, "fields.content", "%d bytes, over the limit of %d", len(u.Content), MaxFileSize)
	}
	f := params{"name": u.Name, "content": base64.StdEncoding.EncodeToString(u.Content)}
	if u.Message != "" {
		f["message"] = u.Message
	}
	var out UploadResult
	if err := s.c.call(ctx, m, botID, params{"dialogId": dialog, "fields": f}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Download calls imbot.v2.File.download and returns the file's download
// URL. The URL carries an access token: treat it
// as a secret.
//
// Bitrix24 method: [imbot.v2.File.download].
//
// [imbot.v2.File.download]: https://apidocs.bitrix24.com/api-reference/chat-bots/chat-bots-v2/imbot.v2/files/file-download.html
func (s *FileService) Download(ctx context.Context, botID, fileID int) (bitrix.Secret, error) {
	const m = "imbot.v2.File.download"
	if err := checkBot(m, botID); err != nil {
		return "", err
	}
	if err := checkID(m, "fileId", fileID); err != nil {
		return "", err
	}
	var out struct {
		DownloadURL string `json:"downloadUrl"`
	}
	if err := s.c.call(ctx, m, botID, params{"fileId": fileID}, &out); err != nil {
		return "", err
	}
	return bitrix.Secret(out.DownloadURL), nil
}
