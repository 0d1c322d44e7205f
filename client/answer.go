package client

// AnswerError returns the *APIError that a non-2xx answer with this status
// and body stands for, as the client's own calls report it: the code and
// the server's message from the API's error envelope (made safe to print),
// or a short cleaned excerpt of a body that is not the API's JSON, with
// each of secrets (the request's token, say) blanked if the server echoed
// it. It returns nil for a 2xx status. For programs that call other routes
// of the server through HTTPClient.
func AnswerError(status int, body []byte, secrets ...string) *APIError {
	if status >= 200 && status < 300 {
		return nil
	}
	if ae, ok := decodeAnswer(status, body, nil, secrets...).(*APIError); ok {
		return ae
	}
	return &APIError{Status: status}
}
