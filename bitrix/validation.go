package bitrix

import "strings"

// ValidationError reports input that the SDK refused to send because the
// portal would reject it or the call cannot be made as asked: nothing was
// sent. The typed clients (crm, lists, imbot, imbotv2) all return it, so
// one errors.As covers them. It matches [ErrInvalidArgument] through
// errors.Is, like the portal's own answer to a bad argument.
type ValidationError struct {
	// Method is the REST method that was not called ("crm.item.add"), or
	// "" when a builder (imbot.Keyboard.Validate) or an option refused
	// the input.
	Method string
	// Field names the parameter or field at fault, in the portal's
	// spelling where it has one: "id", "items[3].originId",
	// "KEYBOARD.BUTTONS[2].TEXT".
	Field string
	// Reason says what is wrong with it.
	Reason string
}

// Error reads "bitrix: method: field: reason (not sent)", like an
// [APIError] of the same method.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("bitrix: ")
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	b.WriteString(" (not sent)")
	return b.String()
}

// Is matches [ErrInvalidArgument].
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidArgument }
