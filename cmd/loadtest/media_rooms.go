package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"parley/signaling/client"
)

// roomRef is what the load tester needs of a room.
type roomRef struct {
	ID     string  `json:"id"`
	Number *string `json:"number"`
}

// conference opens a conference room as the demo agent alice; the run's
// participants join it as guests (POST /api/conference/guest). alice's
// socket stays open until the run ends.
func (r *mediaRun) conference(ctx context.Context, name string) (roomRef, error) {
	tok, err := r.t.api.login(ctx, r.src.addr(0), "alice", "demo")
	if err != nil {
		return roomRef{}, fmt.Errorf("alice signs in (the server runs with --demo?): %w", err)
	}
	c, _, err := client.Connect(ctx, r.t.ws, client.Options{Token: tok})
	if err != nil {
		return roomRef{}, err
	}
	r.mu.Lock()
	r.closers = append(r.closers, func() { c.Close() }) //nolint:errcheck
	r.mu.Unlock()
	go func() { // nobody reads alice's events
		for range c.Events() {
		}
	}()
	raw, err := c.Request(ctx, "room.create", map[string]any{"name": name, "media": "video"})
	if err != nil {
		return roomRef{}, fmt.Errorf("room.create: %w", err)
	}
	var out struct {
		Room roomRef `json:"room"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return roomRef{}, err
	}
	if out.Room.Number == nil {
		return roomRef{}, errors.New("room.create: a conference room without a number")
	}
	return out.Room, nil
}

// guest gets a guest token for the room and connects with it: a
// publisher to the first node, a receive-only subscriber (with several
// nodes) to one of the others, so its signaling crosses nodes while its
// media comes straight from the room's node.
func (r *mediaRun) guest(ctx context.Context, room roomRef, i int, name string, receiveOnly bool) (*mediaPeer, error) {
	var out struct {
		Token string `json:"token"`
	}
	err := r.t.api.do(ctx, r.src.addr(i), http.MethodPost, "/api/conference/guest", "",
		map[string]string{"number": *room.Number, "name": name}, &out)
	if err != nil {
		return nil, fmt.Errorf("guest %s: %w", name, err)
	}
	ws := r.t.ws
	if receiveOnly {
		ws = r.t.agentURLs(i)[0]
	}
	return connectMedia(ctx, ws, out.Token, name, &r.stats)
}

// participant paces, connects a guest, joins it and publishes tracks
// (made by mk on its up connection).
func (r *mediaRun) participant(ctx, sendCtx context.Context, room roomRef, i int, name string, receiveOnly bool, expect int, timed bool,
	mk func(p *mediaPeer) ([]*localTrack, error)) (*mediaPeer, error) {
	if err := r.paced(ctx); err != nil {
		return nil, err
	}
	p, err := r.guest(ctx, room, i, name, receiveOnly)
	if err != nil {
		return nil, err
	}
	r.add(p, timed)
	if err := r.enter(ctx, sendCtx, p, room.ID, receiveOnly, expect, mk); err != nil {
		return nil, err
	}
	return p, nil
}

// enter joins p to room and publishes what mk makes.
func (r *mediaRun) enter(ctx, sendCtx context.Context, p *mediaPeer, room string, receiveOnly bool, expect int,
	mk func(p *mediaPeer) ([]*localTrack, error)) error {
	if err := p.join(ctx, room, receiveOnly, expect); err != nil {
		return err
	}
	if mk == nil {
		return nil
	}
	tracks, err := mk(p)
	if err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	if err := p.publish(sendCtx, tracks); err != nil {
		return fmt.Errorf("%s publishes: %w", p.name, err)
	}
	return nil
}

func camera(p *mediaPeer) ([]*localTrack, error) {
	v, err := addVideo(p.up, p.part, p.part+"-camera", "camera", simulcastLayers)
	if err != nil {
		return nil, err
	}
	return []*localTrack{v}, nil
}

func microphone(p *mediaPeer) ([]*localTrack, error) {
	a, err := addAudio(p.up, p.part, p.part+"-microphone")
	if err != nil {
		return nil, err
	}
	return []*localTrack{a}, nil
}

func cameraAndMic(p *mediaPeer) ([]*localTrack, error) {
	v, err := camera(p)
	if err != nil {
		return nil, err
	}
	a, err := microphone(p)
	return append(v, a...), err
}

func cameraMicScreen(p *mediaPeer) ([]*localTrack, error) {
	t, err := cameraAndMic(p)
	if err != nil {
		return nil, err
	}
	s, err := addVideo(p.up, p.part, p.part+"-screen", "screen", []videoLayer{screenLayer})
	return append(t, s), err
}

// livestream is W1: one simulcast publisher, then N receive-only
// subscribers of its camera.
func (r *mediaRun) livestream(ctx, sendCtx context.Context) error {
	room, err := r.conference(ctx, "W1 livestream")
	if err != nil {
		return err
	}
	if _, err := r.participant(ctx, sendCtx, room, 0, "Publisher", false, 0, false, camera); err != nil {
		return err
	}
	for i := range r.cfg.subscribers {
		p, err := r.participant(ctx, sendCtx, room, i+1, fmt.Sprintf("Viewer %d", i), true, 1, true, nil)
		if err != nil {
			return err
		}
		r.mu.Lock()
		r.subs = append(r.subs, p)
		r.mu.Unlock()
	}
	return nil
}

// audio is W3: P microphone publishers (each also receives the others, as
// a browser in the room does), then S receive-only subscribers of all.
func (r *mediaRun) audio(ctx, sendCtx context.Context) error {
	room, err := r.conference(ctx, "W3 audio")
	if err != nil {
		return err
	}
	n := r.cfg.publishers
	for i := range n {
		if _, err := r.participant(ctx, sendCtx, room, i, fmt.Sprintf("Speaker %d", i), false, n-1, false, microphone); err != nil {
			return err
		}
	}
	for i := range r.cfg.subscribers {
		if _, err := r.participant(ctx, sendCtx, room, n+i, fmt.Sprintf("Listener %d", i), true, n, true, nil); err != nil {
			return err
		}
	}
	return nil
}

// meeting is W2: four camera publishers who see one another, and four
// receive-only subscribers of all four. Once every track arrives, each
// receiver sets a speaker layout (speakerLayout).
func (r *mediaRun) meeting(ctx, sendCtx context.Context) error {
	room, err := r.conference(ctx, "W2 meeting")
	if err != nil {
		return err
	}
	const n = 4
	for i := range n {
		if _, err := r.participant(ctx, sendCtx, room, i, fmt.Sprintf("Member %d", i), false, n-1, false, camera); err != nil {
			return err
		}
	}
	for i := range n {
		if _, err := r.participant(ctx, sendCtx, room, n+i, fmt.Sprintf("Watcher %d", i), true, n, true, nil); err != nil {
			return err
		}
	}
	return nil
}

// speakerLayout is what a meeting page does with its tiles: the speaker's
// camera large, on the high layer, and every other camera small, on the
// low layer, asked for with rtc.layer. The speaker is the first member;
// the first member itself shows the second large.
func (r *mediaRun) speakerLayout(ctx context.Context) error {
	r.mu.Lock()
	peers := r.peers
	r.mu.Unlock()
	if len(peers) == 0 {
		return nil
	}
	speaker := peers[0].part
	for _, p := range peers {
		large := speaker
		if p.part == speaker {
			large = peers[1].part
		}
		for _, t := range p.tracks() {
			want := 0
			if t.publisher == large {
				want = 2
			}
			t.want.Store(int32(want))
			if err := p.request(ctx, "rtc.layer", map[string]any{"room_id": p.room, "track_id": t.id, "max_layer": want}, nil); err != nil {
				return fmt.Errorf("%s asks for layer %d of %s: %w", p.name, want, t.id, err)
			}
		}
	}
	return nil
}

// onLayout reports whether every receiver gets each track on the layer it
// asked for.
func (r *mediaRun) onLayout() bool {
	r.mu.Lock()
	peers := r.peers
	r.mu.Unlock()
	for _, p := range peers {
		for _, t := range p.tracks() {
			if w := t.want.Load(); w >= 0 && t.layer.Load() != w {
				return false
			}
		}
	}
	return true
}

const mediaQueue = "loadtest-media"

// contactCenter is W4: R conversation rooms, each opened by its agent
// from an accepted chat; the agent publishes camera and microphone, the
// customer camera, microphone and a screen, and the supervisor sam
// watches receive-only. Rooms are filled one after another.
func (r *mediaRun) contactCenter(ctx, sendCtx context.Context) error {
	names := make([]string, r.cfg.rooms)
	for i := range names {
		names[i] = fmt.Sprintf("lt-media-agent-%03d", i)
		if err := r.t.api.createUser(ctx, r.t.admin, names[i], fmt.Sprintf("Media Agent %d", i), "agent", agentPassword); err != nil {
			return fmt.Errorf("create agents: %w", err)
		}
	}
	// Capacity 1: the next chat goes to the one agent still free.
	err := r.t.api.saveQueue(ctx, r.t.admin, mediaQueue, map[string]any{
		"name": "Media load test", "strategy": "least_busy", "capacity": 1, "answer_seconds": 120, "members": names,
	})
	if err != nil {
		return fmt.Errorf("create queue %s: %w", mediaQueue, err)
	}
	samTok, err := r.t.api.login(ctx, r.src.addr(0), "sam", "demo")
	if err != nil {
		return fmt.Errorf("sam signs in (the server runs with --demo?): %w", err)
	}
	for i := range r.cfg.rooms {
		if err := r.conversationRoom(ctx, sendCtx, i, names[i], samTok); err != nil {
			return fmt.Errorf("room %d: %w", i, err)
		}
	}
	return nil
}

func (r *mediaRun) conversationRoom(ctx, sendCtx context.Context, i int, username, samTok string) error {
	// The agent: sign in, connect, go available.
	if err := r.paced(ctx); err != nil {
		return err
	}
	tok, err := r.t.api.login(ctx, r.src.addr(1+i), username, agentPassword)
	if err != nil {
		return fmt.Errorf("agent %s signs in: %w", username, err)
	}
	agent, err := connectMedia(ctx, r.t.ws, tok, username, &r.stats)
	if err != nil {
		return err
	}
	r.add(agent, false)
	if err := agent.request(ctx, "agent.status", map[string]any{"status": "available"}, nil); err != nil {
		return err
	}
	// The customer: a visitor token, chat.start.
	if err := r.paced(ctx); err != nil {
		return err
	}
	vtok, err := r.t.api.visitor(ctx, r.src.addr(1+i), mediaQueue)
	if err != nil {
		return err
	}
	cust, err := connectMedia(ctx, r.t.ws, vtok, fmt.Sprintf("Customer %d", i), &r.stats)
	if err != nil {
		return err
	}
	r.add(cust, true)
	var started struct {
		Conversation struct {
			ID int64 `json:"id"`
		} `json:"conversation"`
	}
	if err := cust.request(ctx, "chat.start", map[string]any{"name": cust.name}, &started); err != nil {
		return err
	}
	conv := started.Conversation.ID
	// The agent accepts the offer and opens the conversation's room.
	_, err = agent.waitEvent(ctx, "chat.offer", func(d json.RawMessage) bool {
		var o struct {
			Conversation struct {
				ID int64 `json:"id"`
			} `json:"conversation"`
		}
		return json.Unmarshal(d, &o) == nil && o.Conversation.ID == conv
	}, 15*time.Second)
	if err != nil {
		return err
	}
	if err := agent.request(ctx, "chat.accept", map[string]any{"conversation_id": conv}, nil); err != nil {
		return err
	}
	var created struct {
		Room roomRef `json:"room"`
	}
	if err := agent.request(ctx, "room.create", map[string]any{"conversation_id": conv, "media": "video"}, &created); err != nil {
		return err
	}
	room := created.Room.ID
	if err := r.enter(ctx, sendCtx, agent, room, false, 3, cameraAndMic); err != nil {
		return err
	}
	// The customer's socket has been open since the chat began: its join
	// time counts from room.join.
	cust.mu.Lock()
	cust.opened = time.Now()
	cust.mu.Unlock()
	if err := r.enter(ctx, sendCtx, cust, room, false, 2, cameraMicScreen); err != nil {
		return err
	}
	// The supervisor watches.
	if err := r.paced(ctx); err != nil {
		return err
	}
	sam, err := connectMedia(ctx, r.t.ws, samTok, fmt.Sprintf("sam %d", i), &r.stats)
	if err != nil {
		return err
	}
	r.add(sam, true)
	return r.enter(ctx, sendCtx, sam, room, true, 5, nil)
}
