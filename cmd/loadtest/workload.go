package main

import (
	"context"
	"flag"
	"io"
)

// workload is one kind of run. flags registers its own flags (bound to
// its own settings); run drives the target and returns the figures. An
// error means the run could not be carried out; a run that was carried out
// but failed a check returns a result with Pass false.
type workload struct {
	summary string
	flags   func(fs *flag.FlagSet)
	run     func(ctx context.Context, tf *targetFlags, log io.Writer) (*result, error)
}

// workloads by name. Chat workloads speak chat.* over the websocket (T1
// transfers the chats while they run: transfer.go); media workloads
// (W1–W4) run Pion peers speaking room.* and rtc.*, on the same target,
// resource monitor and report.
var workloads = map[string]workload{
	"c1": chatWorkload(false),
	"c2": chatWorkload(true),
	"t1": transferWorkload(),
	"w1": mediaWorkload("W1", "W1 livestream: 1 simulcast video publisher, N subscribers of the high layer"),
	"w2": mediaWorkload("W2", "W2 meeting: 4 video publishers, 4 subscribers each receiving all four"),
	"w3": mediaWorkload("W3", "W3 audio: 10 Opus publishers, 10 subscribers each receiving all 10"),
	"w4": mediaWorkload("W4", "W4 contact center: R rooms of agent + customer (camera, mic, screen) + a spying supervisor"),
}
