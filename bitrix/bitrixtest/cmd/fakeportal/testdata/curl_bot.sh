#!/bin/sh
# curl_bot.sh drives a standalone fakeportal through its control API with
# curl and POSIX sh only, as a test written in any language would:
#
#   1. install the app at the bot's handler (the portal posts ONAPPINSTALL
#      with tokens; the bot registers itself with imbot.register),
#   2. check that the bot is there,
#   3. send it a message as user 2 (ONIMBOTMESSAGEADD),
#   4. read the bot's reply in that dialog, waiting up to WAIT for it.
#
# Environment: CONTROL_URL, the "control URL:" line of fakeportal's banner
# (http://127.0.0.1:8024/_bitrixtest/v1/); HANDLER_URL, the bot's event
# handler; BOT_CODE, the code the bot registers with; TEXT, what to send;
# WAIT, how long the portal may wait for the reply (a Go duration).
# It prints "ok: ..." and exits 0 when the bot echoed TEXT.
set -eu

: "${CONTROL_URL:?set CONTROL_URL to the control URL of fakeportal}"
: "${HANDLER_URL:?set HANDLER_URL to the bot handler}"
BOT_CODE=${BOT_CODE:-echo}
TEXT=${TEXT:-hello from curl}
WAIT=${WAIT:-10s}

fail() {
	echo "curl_bot.sh: $*" >&2
	exit 1
}

# call METHOD PATH [JSON]: sets $body to the answer; fails unless HTTP 200.
call() {
	if [ $# -ge 3 ]; then
		out=$(curl -sS -X "$1" -H 'Content-Type: application/json' --data "$3" -w '\n%{http_code}' "${CONTROL_URL}$2") || fail "curl $1 $2 failed"
	else
		out=$(curl -sS -X "$1" -w '\n%{http_code}' "${CONTROL_URL}$2") || fail "curl $1 $2 failed"
	fi
	code=$(printf '%s\n' "$out" | tail -n 1)
	body=$(printf '%s\n' "$out" | sed '$d')
	[ "$code" = 200 ] || fail "$1 $2: HTTP $code: $body"
}

# 1. Install.
call POST app/install "{\"handler_url\":\"$HANDLER_URL\"}"
case $body in
*'"delivery_error"'*) fail "ONAPPINSTALL was not delivered: $body" ;;
esac

# 2. The bot registered itself.
call GET bots
case $body in
*"\"code\":\"$BOT_CODE\""*) ;;
*) fail "no bot $BOT_CODE after the install: $body" ;;
esac

# 3. User 2 writes to the bot in their private dialog.
call POST messages/send "{\"bot_code\":\"$BOT_CODE\",\"from_user_id\":2,\"text\":\"$TEXT\"}"
msg=$(printf '%s' "$body" | sed -n 's/.*"message_id":\([0-9][0-9]*\).*/\1/p')
[ -n "$msg" ] || fail "no message_id in $body"
case $body in
*'"delivery_error"'*) fail "ONIMBOTMESSAGEADD was not delivered: $body" ;;
esac

# 4. The bot's messages in dialog 2 after ours; the portal answers as soon
# as there is one (or with an empty list when WAIT is over).
call GET "messages?bot_code=$BOT_CODE&dialog_id=2&after=$msg&wait=$WAIT"
case $body in
*"\"text\":\"$TEXT\""*) echo "ok: the bot answered \"$TEXT\"" ;;
*) fail "the bot did not echo \"$TEXT\": $body" ;;
esac
