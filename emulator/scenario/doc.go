// Package scenario is the YAML scenario format of wxemu: readable dialogues between users, a
// bot and human agents, with what must follow each step; and the runner that plays them against
// an emulator and reports in text, JSON and JUnit XML (`wxemu run`).
//
// A scenario reads like the conversation it tests:
//
//	name: hand-over to a human agent
//	app: oa
//	users: [alice]
//	steps:
//	  - alice: {text: hi}
//	    reply: {text: {contains: hello}}
//	  - alice: {text: 人工 kf1@wxemu_demo}
//	    reply: {transfer: kf1@wxemu_demo}
//	  - agent: {account: kf1@wxemu_demo, accept: alice}
//	  - bot_receives: {event: kf_create_session}
//	  - alice: {text: "anyone there?"}
//	    delivered_to: agent
//	  - advance: 30m1s
//	  - alice: {text: push 6}
//	    delivered_to: bot
//	    sends: {count: 6, errcodes: [0, 0, 0, 0, 0, 45047]}
//
// # Files
//
// A file holds one scenario, or several as YAML documents separated by a line "---". wxemu run
// takes files and folders; a folder is searched recursively for *.yaml and *.yml files, in
// lexical order, leaving out files named wxemu.yaml or wxemu.yml (a folder's configuration) and
// hidden folders. Keys starting with "x-" are ignored anywhere, as a place for YAML anchors
// (&name, *name and the merge key <<: work as in YAML).
//
// A file is checked whole before anything runs: unknown keys, values of the wrong shape, unknown
// users, rules, events and fields, messages an app's kind does not receive, and templates naming
// nothing are all reported together, each as FILE:LINE:COL: PATH: MESSAGE (FIX), with the key
// that was probably meant:
//
//	handover.yaml:7:5: steps[1]: unknown key "rely" (did you mean "reply"?)
//
// # Scenario keys
//
//	name      what the scenario checks, shown in the output (default: the file name)
//	app       alias or appid of the app (default: the only app of the configuration)
//	users     the people of the scenario: [alice, bob], or items {name: carol,
//	          subscribed: false, openid: o…}. Every run gives each user a fresh openid, so
//	          scenarios never see each other's state and can run in parallel against one bot;
//	          openid pins one instead. subscribed: false makes an Official Account user who
//	          does not follow yet (default true; a Mini Program has no followers).
//	vars      name: value pairs, read in templates as ${name}
//	tolerate  rule ids whose error-severity violations do not fail any step
//	checks    built-in checks around every user message: signature, replay (see below)
//	serial    true: run alone, after the parallel scenarios (implied by advance, by agent
//	          status changes, by tokens and by token_time)
//	token_time  wall or virtual: the clock access tokens live on while the scenario runs
//	          (the platform's setting, api.token_time, default wall, comes back when it
//	          ends); the scenario runs alone
//	faults    fault rules active while the scenario runs, see Faults; the scenario runs
//	          alone
//	steps     the list of steps, in order
//
// # Step keys
//
// A step has at most one action: a user's message, agent, advance, trigger or tokens. A step
// without an action only checks (sends, bot_receives): it waits for what the bot does with
// nothing new pushed, e.g. - sends: {count: 2, within: 2s}.
//
//	id            names the step for back-references: ${id.path}
//	name          a label for the output
//	USER          what the user (a name from users) sends, see Messages
//	agent         a human agent acts, see Agents
//	advance       moves the emulator's clock: 30m1s, 48h (Go durations, a unit is required)
//	trigger       opens a window without a push: {user: alice, kind: payment}, or
//	              trigger: payment with one user; kind is message, click, subscribe, scan,
//	              payment or tempsession
//	tokens        expire: every access token of the app expires now (its next use answers
//	              42001); revoke: every one becomes invalid (40001), as a reset of the
//	              AppSecret does. The token APIs hand out new ones.
//	faults        a list of fault rules to add from now on, or clear (remove the ones the
//	              scenario added); see Faults
//	reply         the bot's passive reply to the message, see Replies
//	delivered_to  bot, agent, a kf account, none (WeChat pushed it nowhere: an entry into
//	              a Mini Program's chat with api.tempsession_every_entry: false), or held (a
//	              reorder fault holds it until the user's next message)
//	user_sees     a text match of what the user sees of the reply (the failure line too)
//	sends         the bot's customer-service sends to a user (/cgi-bin/message/custom/send),
//	              see Sends
//	bot_receives  a push the bot must have received, see Pushes the bot receives
//	violations    what the step's pushes (or its checks) must violate, and is thereby tolerated:
//	              rule ids, or {rule: reply.createtime.skew, severity: warning} to require a
//	              severity (an expected warning tolerates no error of the rule)
//	tolerate      rule ids tolerated in this step
//	checks        the built-in checks for this step, replacing the scenario's; [] for none
//	error         a text match: the agent's or trigger's action must fail with such an error
//	              (e.g. {contains: "45047"} for an agent reply past the quota)
//
// # Messages
//
// What a user sends is a text, or a mapping with one type key and the message's fields:
//
//	alice: hi                                 a text
//	alice: {text: hi}                         the same
//	alice: {text: 满意, msgmenu_id: "101"}    a tap on a msgmenu option
//	alice: {image: {}}                        a message type with demo values for its fields
//	alice: {image: {media_id: M, pic_url: U}}
//	alice: {voice: {format: amr, recognition: 你好}}
//	alice: {video: {}}    alice: {shortvideo: {}}
//	alice: {location: {lat: 23.1, lng: 113.3, scale: 20, label: 广州塔}}
//	alice: {link: {title: T, description: D, url: U}}
//	alice: {miniprogrampage: {title: T, appid: "${app.appid}", pagepath: P}}   (Mini Program)
//	alice: {event: CLICK, key: V1001}         an event; its fields beside it
//	alice: {event: subscribe}                 subscribe, unsubscribe, SCAN, LOCATION, CLICK, VIEW,
//	                                          scancode_push, scancode_waitmsg, pic_sysphoto,
//	                                          pic_photo_or_album, pic_weixin, location_select,
//	                                          view_miniprogram, kf_create_session,
//	                                          kf_close_session, kf_switch_session,
//	                                          user_enter_tempsession (Mini Program)
//	alice: {MsgType: text, Content: hi}       the wire form: every field by its wire name
//
// Short field keys: content, key (EventKey), ticket, media_id, thumb_media_id, pic_url,
// format, recognition, media_id_16k, lat and lng (Location_X/Location_Y of a location,
// Latitude/Longitude of LOCATION, SendLocationInfo of location_select), scale, label, poiname,
// precision, title, description, url, appid, pagepath, thumb_url, session_from, business_id,
// menu_id, msgmenu_id (bizmsgmenuid), scan_type, scan_result, pics (a list of PicMd5Sum),
// kf_account, from_kf_account, to_kf_account, msg_id, msg_data_id, idx. Wire names work too
// (Content, Location_X, ScanCodeInfo.ScanType, SendPicsInfo.PicList …). Fields a type needs
// and the scenario leaves out get demo values. WeChat fills in the header: FromUserName (the
// user's openid), ToUserName, CreateTime (the emulator's clock) and a fresh MsgId. YAML's flow
// mappings {…} end at a comma and stumble on ?, : and #: quote such texts ("anyone there?").
//
// # Replies
//
//	reply: none                   the bot answered success or an empty body
//	reply: reply                  any content reply
//	reply: transfer               transfer_customer_service
//	reply: failed                 WeChat got no usable answer (the user sees the failure line)
//	reply: text                   a reply of that type: text, image, voice, video, music, news
//	reply: {text: "hello, hi"}            a text reply, exactly
//	reply: {text: {contains: hello}}      text matches: exact, contains, regex (Go syntax),
//	reply: {text: {regex: '^hello'}}      not_contains; all given must hold
//	reply: {transfer: kf1@wxemu_demo}     a transfer naming that account ("" for none)
//	reply: {msgtype: news, articles: 2}
//	reply: {msgtype: image, media_id: M}  also voice, video; music: its ThumbMediaId
//	reply: {outcome: failed}
//
// A step with no reply key does not check the reply, but its violations still count.
//
// # Sends
//
//	sends: 6                                  exactly 6 sends
//	sends:
//	  user: bob                               whose (default: the step's user, or the only one)
//	  count: 6                                exactly
//	  at_least: 1
//	  msgtypes: [text, text]                  each send's msgtype, in order
//	  contents: ["message 1 of 2", {contains: "2 of"}]   each text send's content, in order
//	  errcodes: [0, 0, 0, 0, 0, 45047]        WeChat's answer to each send, in order
//	  within: 2s                              wait up to 2 s (wall time) for the sends
//	                                          (default: the run's, 1 s); with count: 0 the
//	                                          whole 2 s is watched
//	  quiet: 300ms                            the quiet window (default: the run's, 100 ms)
//
// A bot may send after it answers, from a goroutine or a queue. A step that expects sends
// watches for them the way Gomega's Eventually and then Consistently do: an exact expectation
// (count, or a list: msgtypes, contents, errcodes) waits until they have come, for at most
// within, and then watches the quiet window, in which one more send fails the step (a send
// unlike the one expected at its place, or one too many, fails it at once); an expectation of
// none (count: 0) watches the quiet window, or within if that is given and longer; at_least
// alone waits until it holds and watches nothing more, since more sends are allowed. A step
// that asserts nothing about sends does not wait. The defaults are Runner.Within and
// Runner.Quiet (wxemu run --within, --quiet).
//
// Nothing on the wire says which push a send answers. The sends of a step are those to the
// user after its action began and before the user's next push, probe, retry or action; for a
// step without an action, those after the latest action step began. A send that comes after
// its step's sends were judged, before anything else happened for the user, is late (see
// Verdicts). A list describes every send: its length is the count. Sends WeChat refused for
// the access token (40001, 42001) count, with what they carried: a bot that refetches its token
// shows [42001, 0]. A call a fault rule cut (status, drop) is not a send: WeChat never
// answered it (the journal keeps it).
//
// # Pushes the bot receives
//
//	bot_receives: kf_create_session
//	bot_receives: {event: kf_close_session, kf_account: kf1@wxemu_demo}
//	bot_receives: {event: kf_switch_session, from_kf_account: kf1@…, to_kf_account: kf2@…}
//	bot_receives: {event: kf_close_session, count: 0}       none since the last check
//	bot_receives: {msgtype: text, user: bob, within: 1s}
//
// It looks at what was pushed to the bot for the user (default: the step's user, or the only
// one) since the previous bot_receives of that user (or the start), and moves past what it
// found: without count, at least one must match and the next check starts after the first
// match; with count, exactly that many, and the next check starts after the last. The
// built-in checks' own pushes are not counted.
//
// # Agents
//
//	agent: {account: kf1@wxemu_demo, accept: alice}          take a waiting user
//	agent: {account: kf1@wxemu_demo, reply: alice, text: 您好} a customer-service message as
//	                                                          the agent (spends the window)
//	agent: {account: kf1@wxemu_demo, switch: alice, to: kf2@wxemu_demo}
//	agent: {account: kf1@wxemu_demo, close: alice}
//	agent: {account: kf3@wxemu_demo, online: true, auto_accept: true, capacity: 2}
//
// An action that fails (accepting a user who is not waiting, a reply past the quota) fails the
// step, unless the step expects it with error:. Agents are shared by every scenario of a run:
// a scenario that changes an agent's status runs alone and gives the agent its status back
// when it ends, and every scenario ends its users' sessions and places in the queue when it
// ends, quietly (no kf_close_session is pushed for a finished scenario).
//
// # Templates
//
// Any text in a step may hold templates, expanded when the step runs:
//
//	${name}             a variable of vars
//	${alice}            the user's openid in this run; ${alice.openid}, ${alice.name}
//	${app.appid}        the app: alias, appid, original_id, kind, mode, format, wechat_id
//	${env.NAME}         an environment variable
//	${id}               the JSON result of the step with that id
//	${id.PATH}          a gjson path into it (github.com/tidwall/gjson)
//	$${                 a literal ${
//
// A user step's result is the interaction WeChat reports (the control API's send answer)
// plus the user and the sends: ${greet.result.user_sees}, ${greet.result.reply.Content},
// ${greet.result.reply.Articles.0.Title}, ${greet.result.message.MsgId},
// ${greet.result.kf_account}, ${greet.routed}, ${greet.sends.0.content}, ${greet.sends.#}. An
// agent step's result: account, action, user, openid, to, text, delivered, errcode, errmsg,
// error. A trigger's: user, kind, grants. An advance's: advanced, now. bot_receives adds
// received (the pushes found), and a step without an action that checks sends adds sends.
// A name must be defined before the step that uses it; a path that finds nothing fails the
// step.
//
// # Verdicts
//
// Every push of an action step (the user's message, and the kf events it or an agent causes)
// is judged as WeChat judges it, and an error-severity violation fails the step unless the
// scenario or the step tolerates its rule, or the step expects it in violations. Warnings never
// fail a step; they are listed in the JSON report.
//
// A send that comes after its step's sends were judged (or after a check's probe or retry was
// judged) is listed with that step as a late send, in the text, JSON (late_sends) and JUnit
// reports, never counted in a later step, and it fails that step and the scenario (rule
// sends.late) unless the step or the scenario tolerates sends.late. It is found before the
// next step runs and after the last; a scenario stops there. After a failed step the runner
// waits for the bot to finish (the run's within since the step began, when the sends it
// expected had not all come, then the quiet window) so that the report shows what came late.
//
// # Built-in checks
//
// checks: [signature] pushes each user message first with forged signatures. In plaintext mode:
// a wrong signature. In compatible and safe mode: both signature and msg_signature wrong (what a
// forger without the token sends), and a wrong msg_signature under a right signature (a body
// someone changed under a signature that was right). The bot must not act on the first: any
// status but 200, or no reply (success or an empty body), and no API call about the user, for
// the quiet window after its answer (or the step's sends.within, if longer); what it sends
// then is the probe's, not the step's. Accepting the second is a warning, probe.msg_signature
// (protocol §1.3: verify msg_signature); it fails nothing unless violations asks for it. A
// wrong signature under a right msg_signature is not pushed: a bot that verifies msg_signature
// only, as the docs advise, may accept it. Messages the user sends to a human agent are not
// probed: WeChat pushes nothing of theirs then.
//
// checks: [replay] delivers each user message a second time once the step's sends have come
// (for a step that expects none, once the user's sends have been quiet for the quiet window),
// as WeChat's retry does (the same body, the same MsgId, or FromUserName+CreateTime for an
// event): no customer-service send may follow, watched for the quiet window, and at least as
// long as the first delivery took to bring its last send plus the quiet window, and at least
// sends.within.
//
// # Faults
//
// A fault rule makes WeChat misbehave the way it does on a bad day (package fault; the same
// keys as faults.rules in the configuration and POST /_emu/v1/faults):
//
//	faults:
//	  - {path: /cgi-bin/message/custom/send, errcode: -1, count: 1}    -1 system error, once
//	  - {family: custom_send, errcode: 45009, after: 1, count: 2}      the 2nd and 3rd sends
//	  - {family: custom_send, errcode: 40001, count: 1}                revokes the app's tokens
//	  - {family: media, latency: 2s, probability: 0.5, seed: 7}        half the media calls, slow
//	  - {family: kf, status: 503}                                       HTTP 503, empty body
//	  - {path: /cgi-bin/message/custom/typing, drop: true}              connection closed
//	  - {push: duplicate, user: alice, msgtype: text, count: 1}         delivered twice
//	  - {push: reorder, user: alice, count: 1}                          held, delivered later
//
// Match: path or family (token, custom_send, typing, media, kf), app (default the scenario's),
// user (a user of the scenario), msgtype (push rules). Action: errcode (any code of the
// catalog; 40001 revokes and 42001 expires every token of the app, so the bot must fetch a new
// one), status (5xx), latency (up to 60s, alone or before errcode, status or drop), drop, or push
// (duplicate, reorder). Firing: count, after, probability (0..1) drawn from seed and the rule's
// id. The first rule that fires on a call answers it. Answers a rule made are marked injected
// in the journal and, for a user, in the transcript (a fault line the user does not see). A
// duplicate delivery is judged: another reply than the first (push.duplicate.reply) or a
// customer-service send while the bot answered it (push.duplicate.sends) is an error.
//
// # Running
//
// Runner runs scenarios against one emulator. The scenarios run Parallel at a time, each with
// fresh users; a scenario that moves the clock (advance) or changes an agent's status (agent
// online, auto_accept, capacity), or says serial: true, runs alone after them, one at a time,
// because the emulator has one clock and one set of agents; so do scenarios with tokens or
// token_time. A scenario stops at its first failed step; the remaining steps are reported
// skipped. Runner.Within (default 1 s) and Runner.Quiet (default 100 ms) are the bounds of the
// waits above, in wall time.
package scenario
