package crm

import "github.com/b24go/sdk/bitrix"

// Multifield is one value of a lead's, contact's or company's PHONE, EMAIL,
// WEB or IM multi-field: the crm_multifield object of the Bitrix24 docs
// (https://apidocs.bitrix24.com/api-reference/crm/data-types.html#crm_multifield), with its wire names
// ID, TYPE_ID, VALUE and VALUE_TYPE.
//
// The classic methods (crm.lead.add, crm.contact.add, crm.company.add and
// their update methods) take a list of them under the field's key:
//
//	"PHONE": []crm.Multifield{crm.Phone("+1 555 0100", crm.PhoneWork)}
//
// which is sent as fields[PHONE][0][VALUE]=+1 555 0100 and
// fields[PHONE][0][VALUE_TYPE]=WORK, the shape of the crm.lead.add example
// (https://apidocs.bitrix24.com/api-reference/crm/leads/crm-lead-add.html). Decoding the PHONE or EMAIL
// list of crm.lead.get into a []Multifield fills all four fields.
type Multifield struct {
	// ID identifies a stored value (the classic get and list methods
	// answer it). Zero on a new value, and then not sent.
	ID bitrix.Int `json:"ID,omitempty"`
	// TypeID is PHONE, EMAIL, WEB, IM or LINK. The classic methods answer
	// it; on writes the field's key says the type, so Phone and Email leave
	// it empty and it is not sent.
	TypeID string `json:"TYPE_ID,omitempty"`
	// Value is the phone number, address, URL or messenger id.
	Value string `json:"VALUE"`
	// ValueType is the kind of value: see [PhoneType] and [EmailType].
	ValueType string `json:"VALUE_TYPE,omitempty"`
}

// PhoneType is the VALUE_TYPE of a phone number. The values are those
// https://apidocs.bitrix24.com/api-reference/crm/data-types.html#crm_multifield lists for phones.
type PhoneType string

// The documented phone value types.
const (
	PhoneWork    PhoneType = "WORK"
	PhoneMobile  PhoneType = "MOBILE"
	PhoneFax     PhoneType = "FAX"
	PhoneHome    PhoneType = "HOME"
	PhonePager   PhoneType = "PAGER"
	PhoneMailing PhoneType = "MAILING"
	PhoneOther   PhoneType = "OTHER"
)

// EmailType is the VALUE_TYPE of an e-mail address. The values are those
// https://apidocs.bitrix24.com/api-reference/crm/data-types.html#crm_multifield lists for e-mail.
type EmailType string

// The documented e-mail value types.
const (
	EmailWork    EmailType = "WORK"
	EmailHome    EmailType = "HOME"
	EmailMailing EmailType = "MAILING"
	EmailOther   EmailType = "OTHER"
)

// Phone returns a new phone value for a PHONE multi-field.
func Phone(number string, t PhoneType) Multifield {
	return Multifield{Value: number, ValueType: string(t)}
}

// Email returns a new e-mail value for an EMAIL multi-field.
func Email(address string, t EmailType) Multifield {
	return Multifield{Value: address, ValueType: string(t)}
}
