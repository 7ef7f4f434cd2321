package signaling

import (
	"encoding/json"

	"parley/store"
)

// checkText refuses a request whose data holds a string the database
// cannot store (store.CheckJSON). It runs on every request, before any
// handler, so no field of any type can carry such text further; the
// answer is bad_request and names the field.
func checkText(data json.RawMessage) error {
	if err := store.CheckJSON(data); err != nil {
		return errBadRequest(err.Error())
	}
	return nil
}
