package cloudfn

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// The tcb gateway's protobuf messages (protocol §8.4), read and written with protowire: four
// small messages, whose field numbers are those of wx-server-sdk's own openapi.proto.
//
//	CommApiData     { 1 apiType int32; 2 openapiData OpenApiData; 6 appid string }
//	OpenApiData     { 1 pairs repeated KeyValuePair }
//	KeyValuePair    { 1 key string; 2 value bytes; 3 contenttype string; 4 filename string }
//	CommOpenApiResp { 1 respData bytes; 2 contentType string; 3 errorCode int32; 4 httpCode uint32 }

// apiTypeOpen is the apiType of cloud.openapi (OPEN_API); INNER_API is 1, SVRKIT_API 2.
const apiTypeOpen = 0

// Pair is one KeyValuePair of a cloud.openapi call: a top-level key of the call's data and its
// value as JSON text, or the raw bytes of a media object with the file name the SDK gave it.
type Pair struct {
	Key         string
	Value       []byte
	ContentType string
	Filename    string
}

// APIData is the CommApiData a cloud.openapi call sends as its requestData.
type APIData struct {
	APIType int32
	Pairs   []Pair
	AppID   string
}

// OpenAPIResp is the CommOpenApiResp the gateway answers a cloud.openapi call with: the HTTP
// API's answer (respData with its content type) or an errorCode of the cloud itself.
type OpenAPIResp struct {
	RespData    []byte
	ContentType string
	ErrorCode   int32
	HTTPCode    uint32
}

// errProto is a requestData that is not the protobuf the SDK writes.
var errProto = errors.New("not a CommApiData protobuf")

// DecodeAPIData reads the requestData of a cloud.openapi call.
func DecodeAPIData(b []byte) (APIData, error) {
	var d APIData
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			d.APIType = int32(x)
		case num == 2 && typ == protowire.BytesType:
			return fields(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if num != 1 || typ != protowire.BytesType {
					return nil
				}
				p, err := decodePair(v)
				if err != nil {
					return err
				}
				d.Pairs = append(d.Pairs, p)
				return nil
			})
		case num == 6 && typ == protowire.BytesType:
			d.AppID = string(v)
		}
		return nil
	})
	if err != nil {
		return APIData{}, fmt.Errorf("%w: %v", errProto, err)
	}
	return d, nil
}

func decodePair(b []byte) (Pair, error) {
	var p Pair
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			p.Key = string(v)
		case 2:
			p.Value = append([]byte(nil), v...)
		case 3:
			p.ContentType = string(v)
		case 4:
			p.Filename = string(v)
		}
		return nil
	})
	return p, err
}

// fields calls f for each field of the message b: v is a length-delimited value, x a varint
// (or fixed) one. Groups are refused; unknown fields are passed on for f to ignore.
func fields(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.Fixed32Type:
			var x32 uint32
			x32, n = protowire.ConsumeFixed32(b)
			x = uint64(x32)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		default:
			return fmt.Errorf("field %d has wire type %d, which CommApiData never uses", num, typ)
		}
		if n < 0 {
			return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

// Append appends the message as protobufjs writes it: fields in number order, a zero errorCode
// left out, respData and contentType always written.
func (r OpenAPIResp) Append(b []byte) []byte {
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, r.RespData)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendString(b, r.ContentType)
	if r.ErrorCode != 0 {
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		// int32 is sign-extended to 64 bits on the wire: -604101 takes ten bytes.
		b = protowire.AppendVarint(b, uint64(int64(r.ErrorCode)))
	}
	if r.HTTPCode != 0 {
		b = protowire.AppendTag(b, 4, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(r.HTTPCode))
	}
	return b
}

// Append appends the message as wx-server-sdk writes it (the specs build requests with it).
func (d APIData) Append(b []byte) []byte {
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(int64(d.APIType)))
	var inner []byte
	for _, p := range d.Pairs {
		var kv []byte
		kv = protowire.AppendTag(kv, 1, protowire.BytesType)
		kv = protowire.AppendString(kv, p.Key)
		kv = protowire.AppendTag(kv, 2, protowire.BytesType)
		kv = protowire.AppendBytes(kv, p.Value)
		if p.ContentType != "" {
			kv = protowire.AppendTag(kv, 3, protowire.BytesType)
			kv = protowire.AppendString(kv, p.ContentType)
		}
		if p.Filename != "" {
			kv = protowire.AppendTag(kv, 4, protowire.BytesType)
			kv = protowire.AppendString(kv, p.Filename)
		}
		inner = protowire.AppendTag(inner, 1, protowire.BytesType)
		inner = protowire.AppendBytes(inner, kv)
	}
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendBytes(b, inner)
	if d.AppID != "" {
		b = protowire.AppendTag(b, 6, protowire.BytesType)
		b = protowire.AppendString(b, d.AppID)
	}
	return b
}

// DecodeOpenAPIResp reads a CommOpenApiResp (the specs read the gateway's answers with it).
func DecodeOpenAPIResp(b []byte) (OpenAPIResp, error) {
	var r OpenAPIResp
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1:
			r.RespData = append([]byte(nil), v...)
		case 2:
			r.ContentType = string(v)
		case 3:
			r.ErrorCode = int32(x)
		case 4:
			r.HTTPCode = uint32(x)
		}
		return nil
	})
	return r, err
}
