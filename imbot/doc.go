// Package imbot is a typed client for the Bitrix24 chat-bot REST API
// (imbot.*): register bots, send and edit their messages with keyboards and
// attachments, register and answer commands, and manage chats.
//
// # Sections
//
//   - Client: [New] wraps a [bitrix.Client]; [WithClientID] sets the
//     CLIENT_ID that bots registered through an inbound webhook must send
//     with every call.
//   - Bots: [BotService.Register] ([BotRegistration], [BotType],
//     [Handlers], [Properties], [Color]), [BotService.Update],
//     [BotService.Unregister], [BotService.List].
//   - Messages: [MessageService.Send] ([Message], [DialogID], [User],
//     [Chat]), [MessageService.Update], [MessageService.Delete],
//     [MessageService.Like], [MessageService.SendTyping].
//   - Commands: [CommandService.Register], [CommandService.Update],
//     [CommandService.Unregister], [CommandService.Answer].
//   - Chats: [ChatService.Add], [ChatService.Get], [ChatService.Dialog],
//     [ChatService.AddUsers], [ChatService.DeleteUser], [ChatService.Users],
//     [ChatService.Leave], [ChatService.UpdateTitle], [ChatService.SetOwner].
//   - Builders: [Keyboard] and [Button], [Attach] and its blocks, [Menu].
//     They produce the documented KEYBOARD / ATTACH / MENU JSON and refuse,
//     before anything is sent, what the portal would reject: no buttons or
//     blocks, a button without text or action, a block without its required
//     fields, more than [MaxPayloadSize] bytes.
//
// # Errors
//
// Input the portal would reject is refused with a [bitrix.ValidationError] that
// names the field (it matches [bitrix.ErrInvalidArgument]); no request is
// sent then. The portal's own answers are [*bitrix.APIError] values: unknown
// bots and commands (BOT_ID_ERROR, COMMAND_ID_ERROR) match
// [bitrix.ErrNotFound]; MESSAGE_ID_ERROR (documented as "Message ID can't
// be empty") matches [bitrix.ErrInvalidArgument]; APP_ID_ERROR, ACCESS_ERROR and
// CANT_EDIT_MESSAGE match [bitrix.ErrAccessDenied]; MAX_COUNT_ERROR matches
// [bitrix.ErrLimitReached] and WITHOUT_CHANGES [bitrix.ErrWithoutChanges].
//
// Bitrix24 marks the v1 imbot.* API deprecated and offers Chatbots 2.0
// (imbot.v2.*, package imbotv2) for new bots. Use this package for bots
// registered through v1; a bot gets events only in the version it was
// registered with.
package imbot
