#!/usr/bin/env bash
# Enforces the one-way imports of docs/architecture.md:
#
#   sfu ← conference ← chat ← rooms ← signaling, web ← cmd
#   staff (staff messages) sits beside chat and rooms: under signaling,
#   over auth, fault, store and bus only.
#   auth, fault, store and bus sit under all of them; auth imports fault,
#   and fault imports only store. mail (the e-mail outbox) imports only
#   store; chat and chat/conversation write to it, cmd and web read it.
#   Inside chat: chat/schema ← chat/queues ← chat/crm ←
#   chat/conversation ← chat/routing ← chat, and chat/conversation ←
#   chat/search ← chat.
#
# (chat does not import conference; rooms joins the two.) Each area below
# lists the other parley areas it may import; an area may always import
# its own subpackages (parley/store/storetest → parley/store).
# parley/sfu may import only the standard library, github.com/pion/* and
# golang.org/x/net and x/sys (the media socket's sendmmsg: batchconn.go).
# Only sfu, conference and rtcpeer (a WebRTC client) may import
# github.com/pion/*: every other area
# reaches media through conference's plain types.
# Libraries other than Pion are not limited here: bus imports
# github.com/nats-io/nats.go for its NATS implementation.
# Nothing imports parley/cmd/... (except packages inside the same command).
# A parley package not named here may import any area but cmd; a named area
# importing an unnamed parley package is a violation: add it here first.
#
# Only non-test imports are checked (go list's .Imports). Packages that do
# not exist yet are simply not listed. Prints "pkg imports forbidden-pkg"
# for each violation and exits 1 if there is any.
set -euo pipefail

cd "$(dirname "$0")/.."
GO=${GO:-go}

declare -A allowed=(
	[sfu]=""
	[bus]=""
	[store]=""
	[mail]="store"
	[cluster]="store bus"
	[fault]="store"
	[auth]="fault store bus"
	[conference]="sfu auth fault store bus cluster"
	[chat/schema]="store"
	# what the chat packages' tests share; only tests import it
	[chat/chattest]="chat/schema auth fault store"
	[chat/queues]="auth fault store"
	[chat/crm]="chat/queues auth fault store bus mail"
	[chat/conversation]="chat/crm chat/queues auth fault store bus mail"
	[chat/routing]="chat/conversation chat/crm chat/queues auth fault store bus"
	[chat/search]="chat/conversation chat/crm chat/queues auth fault store"
	[chat]="chat/routing chat/search chat/conversation chat/crm chat/queues chat/schema auth fault store bus mail"
	[chat/floor]="chat chat/routing chat/crm chat/queues auth fault store bus"
	[rooms]="chat conference auth fault store bus cluster"
	[staff]="auth fault store bus"
	[signaling]="rooms chat chat/floor staff conference auth fault store bus"
	[web]="chat conference auth fault store bus mail"
	# the rooms' WebRTC client: the SFU (its Signal) and the protocol's client
	[rtcpeer]="sfu signaling"
)

module=$("$GO" list -m)
listing=$("$GO" list -e -f '{{.ImportPath}}: {{join .Imports " "}}' ./...)

# area parley/store/storetest → store; parley/cmd/parley/x → cmd/parley;
# chat's packages are areas of their own: parley/chat/queues → chat/queues
area() {
	local rest=${1#"$module"/}
	local top=${rest%%/*}
	if [[ $top == cmd || ($top == chat && $rest == chat/*) ]]; then
		rest=${rest#"$top"/}
		top=$top/${rest%%/*}
	fi
	printf '%s' "$top"
}

is_std() { [[ ${1%%/*} != *.* && $1 != "$module" && $1 != "$module"/* ]]; }

violations=0
while IFS= read -r line; do
	[[ -n $line ]] || continue
	pkg=${line%%:*}
	imports=${line#*:}
	from=$(area "$pkg")
	for imp in $imports; do
		bad=""
		if [[ $imp == "$module"/* || $imp == "$module" ]]; then
			to=$(area "$imp")
			if [[ $to == "$from" ]]; then
				:
			elif [[ $to == cmd/* ]]; then
				bad=1
			elif [[ -v allowed[$from] ]]; then
				[[ " ${allowed[$from]} " == *" $to "* ]] || bad=1
			fi
		elif [[ $from == sfu ]] && ! is_std "$imp" && [[ $imp != github.com/pion/* && $imp != golang.org/x/net/* && $imp != golang.org/x/sys/* ]]; then
			bad=1
		elif [[ $imp == github.com/pion/* && -v allowed[$from] && $from != conference && $from != sfu && $from != rtcpeer ]]; then
			bad=1
		fi
		if [[ -n $bad ]]; then
			echo "$pkg imports $imp"
			violations=$((violations + 1))
		fi
	done
done <<<"$listing"

if ((violations > 0)); then
	echo "importcheck: $violations forbidden import(s); see the package order in docs/architecture.md" >&2
	exit 1
fi
