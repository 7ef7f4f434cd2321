package signaling

import (
	"testing"
	"time"

	"parley/bus"
	"parley/chat"
)

// The envelope codec runs for every frame in and out: these benchmarks
// measure it on the frames of the chat send path (docs/benchmarks.md).

var sendFrame = []byte(`{"type":"chat.send","id":"r-1742","data":{"conversation_id":4211,"client_id":"m-2f1c9a","text":"Hello, I would like to know where my order 7731 is; it was due yesterday."}}`)

func BenchmarkDecodeRequest(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(sendFrame)))
	for b.Loop() {
		env, err := DecodeRequest(sendFrame)
		if err != nil || env.Type != "chat.send" {
			b.Fatal(env, err)
		}
	}
}

// BenchmarkDecodeSend is the whole inbound decode of a chat.send: the
// envelope, then its data into the domain's input (bindSend).
func BenchmarkDecodeSend(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(sendFrame)))
	for b.Loop() {
		env, err := DecodeRequest(sendFrame)
		if err != nil {
			b.Fatal(err)
		}
		var in chat.SendInput
		if err := bindSend(env.Data, &in); err != nil || in.ConversationID != 4211 {
			b.Fatal(in, err)
		}
	}
}

func BenchmarkEncodeAck(b *testing.B) {
	b.ReportAllocs()
	res := chat.SendResult{Seq: 17, Time: time.Date(2026, 11, 21, 17, 30, 15, 100e6, time.UTC)}
	for b.Loop() {
		frame, err := encodeAck("r-1742", res)
		if err != nil || len(frame) == 0 {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeError(b *testing.B) {
	b.ReportAllocs()
	we := WireError{CodeRateLimited, "too many requests; this one was dropped, send it again later"}
	for b.Loop() {
		if frame := encodeError("r-1742", we); len(frame) == 0 {
			b.Fatal("empty frame")
		}
	}
}

// BenchmarkEncodeEvent is the outbound event of a message: encoded once
// by the publisher (bus.Frame), the same bytes to every recipient.
func BenchmarkEncodeEvent(b *testing.B) {
	b.ReportAllocs()
	ev := chat.Event{ConversationID: 4211, Seq: 17, Kind: chat.KindMessage,
		Author:   chat.Author{Kind: "customer", Name: "Vera Visitor"},
		Text:     "Hello, I would like to know where my order 7731 is; it was due yesterday.",
		ClientID: "m-2f1c9a", Time: time.Date(2026, 11, 21, 17, 30, 15, 100e6, time.UTC)}
	for b.Loop() {
		frame, err := bus.Frame("chat.event", ev)
		if err != nil || len(frame) == 0 {
			b.Fatal(err)
		}
	}
}
