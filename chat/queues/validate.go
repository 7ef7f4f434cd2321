package queues

import (
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

var (
	keyRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{3,64}$`)
	colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
)

// validate checks every setting and fills the defaults of empty ones.
func (q *Queue) validate() error {
	if err := BadText("key", q.Key, "name", q.Name, "title", q.Title, "color", q.Color, "greeting", q.Greeting,
		"agent_alias", q.AgentAlias, "email_mode", q.EmailMode, "extra_label", q.ExtraLabel, "extra_mode", q.ExtraMode,
		"strategy", q.Strategy, "time_zone", q.TimeZone, "offline_message", q.OfflineMessage,
		"unavailable_message", q.UnavailableMessage, "offline_email", q.OfflineEmail, "missed_offers", q.MissedOffers,
		"transcript_email", q.TranscriptEmail); err != nil {
		return err
	}
	for _, list := range []struct {
		name   string
		values []string
	}{{"allowed_origins", q.AllowedOrigins}, {"statuses", q.Statuses}} {
		for _, v := range list.values {
			if err := BadText(list.name, v); err != nil {
				return err
			}
		}
	}
	q.Name, q.Title = strings.TrimSpace(q.Name), strings.TrimSpace(q.Title)
	if q.Title == "" {
		q.Title = "Chat with us"
	}
	if q.Color == "" {
		q.Color = "#2f6fed"
	}
	if q.EmailMode == "" {
		q.EmailMode = "optional"
	}
	if q.ExtraMode == "" {
		q.ExtraMode = "hidden"
	}
	if q.Strategy == "" {
		q.Strategy = LongestIdle
	}
	if q.Capacity == 0 {
		q.Capacity = 3
	}
	if q.AnswerSeconds == 0 {
		q.AnswerSeconds = 20
	}
	if q.WaitAlertSeconds == 0 {
		q.WaitAlertSeconds = DefaultWaitAlertSeconds
	}
	if q.ServiceLevelSeconds == 0 {
		q.ServiceLevelSeconds = DefaultServiceLevelSeconds
	}
	if len(q.ChatTimeLimits) == 0 {
		q.ChatTimeLimits = DefaultChatTimeLimits()
	}
	if q.TranscriptEmail == "" {
		q.TranscriptEmail = TranscriptOff
	}
	switch {
	case !keyRE.MatchString(q.Key):
		return Bad("key: 3–64 of A-Z a-z 0-9 _ -")
	case q.Name == "" || utf8.RuneCountInString(q.Name) > 100:
		return Bad("name: 1–100 characters")
	case utf8.RuneCountInString(q.Title) > 100:
		return Bad("title: at most 100 characters")
	case !colorRE.MatchString(q.Color):
		return Bad("color: #rrggbb")
	case utf8.RuneCountInString(q.Greeting) > MaxText:
		return Bad("greeting: at most %d characters", MaxText)
	case q.EmailMode != "optional" && q.EmailMode != "required":
		return Bad("email_mode: optional or required")
	case q.ExtraMode != "hidden" && q.ExtraMode != "optional" && q.ExtraMode != "required":
		return Bad("extra_mode: hidden, optional or required")
	case q.ExtraMode != "hidden" && strings.TrimSpace(q.ExtraLabel) == "":
		return Bad("extra_label: a shown extra field needs a label")
	case q.Strategy != LongestIdle && q.Strategy != LeastBusy && q.Strategy != RoundRobin && q.Strategy != RingAll:
		return Bad("strategy: longest_idle, least_busy, round_robin or ring_all")
	case q.Capacity < 1 || q.Capacity > 100:
		return Bad("capacity: 1–100 chats per agent")
	case q.AnswerSeconds < 1 || q.AnswerSeconds > 600:
		return Bad("answer_seconds: 1–600")
	case q.WaitAlertSeconds < 1 || q.WaitAlertSeconds > 3600:
		return Bad("wait_alert_seconds: 1–3600")
	case q.ServiceLevelSeconds < 1 || q.ServiceLevelSeconds > 3600:
		return Bad("service_level_seconds: 1–3600")
	case q.TranscriptEmail != TranscriptOff && q.TranscriptEmail != TranscriptAsk && q.TranscriptEmail != TranscriptAlways:
		return Bad("transcript_email: off, ask or always")
	}
	if err := checkLimits(q.ChatTimeLimits); err != nil {
		return err
	}
	if err := q.validateRules(); err != nil {
		return err
	}
	for _, o := range q.AllowedOrigins {
		if strings.Contains(o, "*") {
			return Bad("allowed_origins: %q has a wildcard; list each web site's origin, such as https://www.example.com", o)
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" ||
			strings.ContainsAny(o, " ;,'\"") {
			return Bad("allowed_origins: %q is not an origin such as https://www.example.com", o)
		}
	}
	for _, st := range q.Statuses {
		if strings.TrimSpace(st) == "" || utf8.RuneCountInString(st) > 50 {
			return Bad("statuses: each 1–50 characters")
		}
	}
	if q.AllowedOrigins == nil {
		q.AllowedOrigins = []string{}
	}
	if q.Statuses == nil {
		q.Statuses = []string{}
	}
	return q.validateFiles()
}

// validateFiles checks file_max_bytes and file_types and fills their
// defaults: 20 MiB, every category.
func (q *Queue) validateFiles() error {
	if q.FileMaxBytes == 0 {
		q.FileMaxBytes = DefaultFileMaxBytes
	}
	if q.FileMaxBytes < MinFileBytes || q.FileMaxBytes > MaxFileBytes {
		return Bad("file_max_bytes: %d–%d bytes (1 KiB–100 MiB)", MinFileBytes, MaxFileBytes)
	}
	if q.FileTypes == nil {
		q.FileTypes = FileCategories()
	}
	seen := map[string]bool{}
	for _, t := range q.FileTypes {
		if !slices.Contains(FileCategories(), t) {
			return Bad("file_types: %q is not one of %s", t, strings.Join(FileCategories(), ", "))
		}
		if seen[t] {
			return Bad("file_types: %q is listed twice", t)
		}
		seen[t] = true
	}
	return nil
}

// checkLimits checks chat_time_limits: 2 or 3 ascending ages, each 1 s to
// a day.
func checkLimits(limits []int) error {
	if len(limits) < 2 || len(limits) > 3 {
		return Bad("chat_time_limits: 2 or 3 ages in seconds (amber, red, and optionally over)")
	}
	for i, l := range limits {
		if l < 1 || l > 86400 {
			return Bad("chat_time_limits: each 1–86400 seconds")
		}
		if i > 0 && l <= limits[i-1] {
			return Bad("chat_time_limits: each longer than the one before")
		}
	}
	return nil
}

// MaxMessage is the longest offline or unavailable message, in characters.
const MaxMessage = 1000

// validateRules checks the rules a queue enforces (hours, limits, the
// offline messages) and fills their defaults.
func (q *Queue) validateRules() error {
	q.TimeZone = strings.TrimSpace(q.TimeZone)
	if q.TimeZone == "" {
		q.TimeZone = "UTC"
	}
	if _, err := time.LoadLocation(q.TimeZone); err != nil || q.TimeZone == "Local" {
		return Bad("time_zone: %q is not a time zone such as Europe/Prague or UTC", q.TimeZone)
	}
	if q.Hours != nil {
		if err := q.Hours.check(); err != nil {
			return err
		}
	}
	if len(q.Holidays) > 366 {
		return Bad("holidays: at most 366")
	}
	seen := map[string]bool{}
	for _, h := range q.Holidays {
		if err := BadText("holidays", h.Name); err != nil {
			return err
		}
		if _, err := time.Parse(time.DateOnly, h.Date); err != nil {
			return Bad("holidays: %q is not a date such as 2026-12-24", h.Date)
		}
		if seen[h.Date] {
			return Bad("holidays: %s is listed twice", h.Date)
		}
		seen[h.Date] = true
		if utf8.RuneCountInString(h.Name) > 100 {
			return Bad("holidays: a name is at most 100 characters")
		}
	}
	if q.Holidays == nil {
		q.Holidays = []Holiday{}
	}
	q.OfflineMessage, q.UnavailableMessage = strings.TrimSpace(q.OfflineMessage), strings.TrimSpace(q.UnavailableMessage)
	if q.OfflineMessage == "" {
		q.OfflineMessage = DefaultOfflineMessage
	}
	if q.UnavailableMessage == "" {
		q.UnavailableMessage = DefaultUnavailableMessage
	}
	q.OfflineEmail = strings.TrimSpace(q.OfflineEmail)
	switch {
	case utf8.RuneCountInString(q.OfflineMessage) > MaxMessage:
		return Bad("offline_message: at most %d characters", MaxMessage)
	case utf8.RuneCountInString(q.UnavailableMessage) > MaxMessage:
		return Bad("unavailable_message: at most %d characters", MaxMessage)
	case q.OfflineEmail != "" && !plainAddress(q.OfflineEmail):
		return Bad("offline_email: an e-mail address such as support@example.com")
	case q.MaxWaiting < 0 || q.MaxWaiting > 100000:
		return Bad("max_waiting: 0 (no limit) to 100000 chats")
	case q.MaxWaitSeconds != 0 && (q.MaxWaitSeconds < 10 || q.MaxWaitSeconds > 86400):
		return Bad("max_wait_seconds: 0 (no limit) or 10–86400")
	case q.AutoFinishSeconds != 0 && (q.AutoFinishSeconds < 10 || q.AutoFinishSeconds > 86400):
		return Bad("auto_finish_seconds: 0 (never) or 10–86400")
	}
	if q.MissedOffers == "" {
		q.MissedOffers = MissedPause
	}
	if q.MissedOffers != MissedPause && q.MissedOffers != MissedIgnore {
		return Bad("missed_offers: pause or ignore")
	}
	return nil
}

// plainAddress is whether s is one bare e-mail address (no display name).
func plainAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == ""
}
