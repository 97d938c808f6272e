package webhook

import (
	"context"
	"fmt"

	"github.com/b24go/sdk/events"
)

// OnAppInstall registers fn for ONAPPINSTALL: with [WithApp] it runs after the portal's tokens were verified and stored, so [PortalClient] works (register a chat bot here). It panics if fn is nil or the event already has a handler.
func (h *Handler) OnAppInstall(fn func(ctx context.Context, ev *events.Event, data *events.AppInstall) error) {
	On(h, events.OnAppInstall, fn)
}

// OnAppUpdate registers fn for ONAPPUPDATE (the new application token is already stored with [WithApp]). It panics if fn is nil or the event already has a handler.
func (h *Handler) OnAppUpdate(fn func(ctx context.Context, ev *events.Event, data *events.AppInstall) error) {
	On(h, events.OnAppUpdate, fn)
}

// OnAppUninstall registers fn for ONAPPUNINSTALL (the portal is already removed from the registry and token store). It panics if fn is nil or the event already has a handler.
func (h *Handler) OnAppUninstall(fn func(ctx context.Context, ev *events.Event, data *events.AppUninstall) error) {
	On(h, events.OnAppUninstall, fn)
}

// OnAppTest registers fn for ONAPPTEST, fired by event.test. It panics if fn is nil or the event already has a handler.
func (h *Handler) OnAppTest(fn func(ctx context.Context, ev *events.Event, data *events.AppTest) error) {
	On(h, events.OnAppTest, fn)
}

// OnBotMessage registers fn for ONIMBOTMESSAGEADD, a message to one of the app's bots; answer at [events.BotMessage.ReplyTarget]. It panics if fn is nil or the event already has a handler.
func (h *Handler) OnBotMessage(fn func(ctx context.Context, ev *events.Event, data *events.BotMessage) error) {
	On(h, events.OnBotMessageAdd, fn)
}

// OnBotMessageUpdate registers fn for ONIMBOTMESSAGEUPDATE. It panics if fn is nil or the event already has a handler.
func (h *Handler) OnBotMessageUpdate(fn func(ctx context.Context, ev *events.Event, data *events.BotMessage) error) {
	On(h, events.OnBotMessageUpdate, fn)
}

// OnBotMessageDelete registers fn for ONIMBOTMESSAGEDELETE. It panics if fn is nil or the event already has a handler.
func (h *Handler) OnBotMessageDelete(fn func(ctx context.Context, ev *events.Event, data *events.BotMessage) error) {
	On(h, events.OnBotMessageDelete, fn)
}

// OnBotJoin registers fn for ONIMBOTJOINCHAT, the bot was added to a chat (send the welcome message here). It panics if fn is nil or the event already has a handler.
func (h *Handler) OnBotJoin(fn func(ctx context.Context, ev *events.Event, data *events.BotMessage) error) {
	On(h, events.OnBotJoinChat, fn)
}

// OnBotDelete registers fn for ONIMBOTDELETE. It panics if fn is nil or the event already has a handler.
func (h *Handler) OnBotDelete(fn func(ctx context.Context, ev *events.Event, data *events.BotDelete) error) {
	On(h, events.OnBotDelete, fn)
}

// OnCommand registers fn for ONIMCOMMANDADD, a slash command of one of the app's bots. It panics if fn is nil or the event already has a handler.
func (h *Handler) OnCommand(fn func(ctx context.Context, ev *events.Event, data *events.CommandAdd) error) {
	On(h, events.OnCommandAdd, fn)
}

// OnOfflineEvent registers fn for ONOFFLINEEVENT, new records in the offline queue (wake an [events.Consumer] here). It panics if fn is nil or the event already has a handler.
func (h *Handler) OnOfflineEvent(fn func(ctx context.Context, ev *events.Event, data *events.OfflineNotice) error) {
	On(h, events.OnOfflineEvent, fn)
}

// OnLeadAdd registers fn for ONCRMLEADADD. It panics if fn is nil or the event already has a handler.
func (h *Handler) OnLeadAdd(fn func(ctx context.Context, ev *events.Event, data *events.CRMEntity) error) {
	On(h, events.OnCRMLeadAdd, fn)
}

// OnLeadUpdate registers fn for ONCRMLEADUPDATE. It panics if fn is nil or the event already has a handler.
func (h *Handler) OnLeadUpdate(fn func(ctx context.Context, ev *events.Event, data *events.CRMEntity) error) {
	On(h, events.OnCRMLeadUpdate, fn)
}

// OnLeadDelete registers fn for ONCRMLEADDELETE. It panics if fn is nil or the event already has a handler.
func (h *Handler) OnLeadDelete(fn func(ctx context.Context, ev *events.Event, data *events.CRMEntity) error) {
	On(h, events.OnCRMLeadDelete, fn)
}

// OnDealAdd registers fn for ONCRMDEALADD. It panics if fn is nil or the event already has a handler.
func (h *Handler) OnDealAdd(fn func(ctx context.Context, ev *events.Event, data *events.CRMEntity) error) {
	On(h, events.OnCRMDealAdd, fn)
}

// OnDealUpdate registers fn for ONCRMDEALUPDATE. It panics if fn is nil or the event already has a handler.
func (h *Handler) OnDealUpdate(fn func(ctx context.Context, ev *events.Event, data *events.CRMEntity) error) {
	On(h, events.OnCRMDealUpdate, fn)
}

// OnDealDelete registers fn for ONCRMDEALDELETE. It panics if fn is nil or the event already has a handler.
func (h *Handler) OnDealDelete(fn func(ctx context.Context, ev *events.Event, data *events.CRMEntity) error) {
	On(h, events.OnCRMDealDelete, fn)
}

// OnContactAdd registers fn for ONCRMCONTACTADD. It panics if fn is nil or the event already has a handler.
func (h *Handler) OnContactAdd(fn func(ctx context.Context, ev *events.Event, data *events.CRMEntity) error) {
	On(h, events.OnCRMContactAdd, fn)
}

// OnContactUpdate registers fn for ONCRMCONTACTUPDATE. It panics if fn is nil or the event already has a handler.
func (h *Handler) OnContactUpdate(fn func(ctx context.Context, ev *events.Event, data *events.CRMEntity) error) {
	On(h, events.OnCRMContactUpdate, fn)
}

// OnContactDelete registers fn for ONCRMCONTACTDELETE. It panics if fn is nil or the event already has a handler.
func (h *Handler) OnContactDelete(fn func(ctx context.Context, ev *events.Event, data *events.CRMEntity) error) {
	On(h, events.OnCRMContactDelete, fn)
}

// OnCompanyAdd registers fn for ONCRMCOMPANYADD. It panics if fn is nil or the event already has a handler.
func (h *Handler) OnCompanyAdd(fn func(ctx context.Context, ev *events.Event, data *events.CRMEntity) error) {
	On(h, events.OnCRMCompanyAdd, fn)
}

// OnCompanyUpdate registers fn for ONCRMCOMPANYUPDATE. It panics if fn is nil or the event already has a handler.
func (h *Handler) OnCompanyUpdate(fn func(ctx context.Context, ev *events.Event, data *events.CRMEntity) error) {
	On(h, events.OnCRMCompanyUpdate, fn)
}

// OnCompanyDelete registers fn for ONCRMCOMPANYDELETE. It panics if fn is nil or the event already has a handler.
func (h *Handler) OnCompanyDelete(fn func(ctx context.Context, ev *events.Event, data *events.CRMEntity) error) {
	On(h, events.OnCRMCompanyDelete, fn)
}

// OnDynamicItemAdd registers fn for ONCRMDYNAMICITEMADD, a new item of a smart process or a smart invoice (entity type 31). See [Handler.OnDynamicItemUpdate] for entityTypeIDs and the per-type names. It panics if fn is nil, an id is not positive, or the route already has a handler.
func (h *Handler) OnDynamicItemAdd(fn func(ctx context.Context, ev *events.Event, data *events.CRMEntity) error, entityTypeIDs ...int) {
	handleDynamic(h, events.OnCRMDynamicItemAdd, fn, entityTypeIDs)
}

// OnDynamicItemUpdate registers fn for ONCRMDYNAMICITEMUPDATE, a changed item of a smart process or a smart invoice (entity type 31).
//
// Without entityTypeIDs fn gets the items of every type; with them (say crm.SmartInvoice, or a smart process's id) only those types, and a route for one type is chosen over the route for all types. A delivery reaches the route both under the generic name, by its data[FIELDS][ENTITY_TYPE_ID], and under the per-type name the portal offers for each type ("ONCRMDYNAMICITEMUPDATE_31", see [events.DynamicItemEvent]). Bind (or tick) one of the two names for a type, not both: the portal sends each change under every bound name, and fn would run twice.
//
// It panics if fn is nil, an id is not positive, or the route already has a handler.
func (h *Handler) OnDynamicItemUpdate(fn func(ctx context.Context, ev *events.Event, data *events.CRMEntity) error, entityTypeIDs ...int) {
	handleDynamic(h, events.OnCRMDynamicItemUpdate, fn, entityTypeIDs)
}

// OnDynamicItemDelete registers fn for ONCRMDYNAMICITEMDELETE, a deleted item of a smart process or a smart invoice (entity type 31). See [Handler.OnDynamicItemUpdate] for entityTypeIDs and the per-type names. It panics if fn is nil, an id is not positive, or the route already has a handler.
func (h *Handler) OnDynamicItemDelete(fn func(ctx context.Context, ev *events.Event, data *events.CRMEntity) error, entityTypeIDs ...int) {
	handleDynamic(h, events.OnCRMDynamicItemDelete, fn, entityTypeIDs)
}

// handleDynamic registers fn for a dynamic-item event: under the generic
// name for all types, or under each type's per-type name.
func handleDynamic(h *Handler, event string, fn func(context.Context, *events.Event, *events.CRMEntity) error, entityTypeIDs []int) {
	if len(entityTypeIDs) == 0 {
		On(h, event, fn)
		return
	}
	for _, id := range entityTypeIDs {
		name := events.DynamicItemEvent(event, id)
		if id <= 0 || name == "" {
			panic(fmt.Sprintf("webhook: %s for entity type %d: not an entity type id", event, id))
		}
		On(h, name, fn)
	}
}

// route returns the handler registered for ev (under h.mu). Dynamic-item
// events, under the generic or the per-type name, go to the route of the
// item's entity type ("ONCRMDYNAMICITEMADD_31"), else to the generic
// route; other events to the route of their exact name.
func (h *Handler) route(ev *events.Event) (HandlerFunc, bool) {
	action, typeID, ok := events.DynamicItemEventOf(ev.Name)
	if !ok {
		fn, ok := h.routes[ev.Name]
		return fn, ok
	}
	generic := "ONCRMDYNAMICITEM" + action
	if typeID == 0 {
		typeID, _ = ev.EntityTypeID()
	}
	if typeID > 0 {
		if fn, ok := h.routes[events.DynamicItemEvent(generic, typeID)]; ok {
			return fn, true
		}
	}
	fn, ok := h.routes[generic]
	return fn, ok
}

// OnTaskAdd registers fn for ONTASKADD. It panics if fn is nil or the event already has a handler.
func (h *Handler) OnTaskAdd(fn func(ctx context.Context, ev *events.Event, data *events.Task) error) {
	On(h, events.OnTaskAdd, fn)
}

// OnTaskUpdate registers fn for ONTASKUPDATE. It panics if fn is nil or the event already has a handler.
func (h *Handler) OnTaskUpdate(fn func(ctx context.Context, ev *events.Event, data *events.Task) error) {
	On(h, events.OnTaskUpdate, fn)
}

// OnTaskDelete registers fn for ONTASKDELETE. It panics if fn is nil or the event already has a handler.
func (h *Handler) OnTaskDelete(fn func(ctx context.Context, ev *events.Event, data *events.Task) error) {
	On(h, events.OnTaskDelete, fn)
}
