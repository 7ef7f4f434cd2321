package conversation

import (
	"slices"
	"testing"
)

func TestMentionsAreLoginsAfterAnAtThatStartsAWord(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"@alice please", []string{"alice"}},
		{"ask @Alice.", []string{"alice"}},
		{"(@bob) and @sam, @bob again", []string{"bob", "sam"}},
		{"@ana.maria-k_2 is here", []string{"ana.maria-k_2"}},
		{"write to bob@example.com", nil},
		{"@a is too short, @@alice doubled", nil},
		{"no mention at all", nil},
		{"line\n@carol", []string{"carol"}},
	} {
		if got := mentionedLogins(c.text); !slices.Equal(got, c.want) {
			t.Errorf("%q mentions %q, want %q", c.text, got, c.want)
		}
	}
}
