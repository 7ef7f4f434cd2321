package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"parley/store"
)

// bind decodes a request body into v: JSON, or for the routes that take
// one, a form. Text the database cannot store (store.CheckJSON) and a
// field of the wrong JSON type answer 400 bad_request naming the field;
// a body that is not JSON answers 400 bad_request with want, which says
// what to send. A null field is the same as a field left out.
func bind(c echo.Context, v any, want string) error {
	r := c.Request()
	ct := r.Header.Get(echo.HeaderContentType)
	if strings.HasPrefix(ct, echo.MIMEApplicationForm) || strings.HasPrefix(ct, echo.MIMEMultipartForm) {
		if err := c.Bind(v); err != nil {
			return apiError(http.StatusBadRequest, "bad_request", want)
		}
		return nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return apiError(http.StatusBadRequest, "bad_request", "the body could not be read")
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err := store.CheckJSON(body); err != nil {
		return apiError(http.StatusBadRequest, "bad_request", err.Error())
	}
	if err := json.Unmarshal(body, v); err != nil {
		if te, ok := err.(*json.UnmarshalTypeError); ok && te.Field != "" {
			field := te.Field[strings.LastIndexByte(te.Field, '.')+1:]
			return apiError(http.StatusBadRequest, "bad_request", fmt.Sprintf("%q cannot be a JSON %s", field, te.Value))
		}
		return apiError(http.StatusBadRequest, "bad_request", want)
	}
	return nil
}
