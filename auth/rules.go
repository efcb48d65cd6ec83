package auth

import (
	"errors"
	"fmt"

	"wsfan/index"
)

// Subscribe policies of a Rule.
const (
	// SubscribeAnyone admits every connection, anonymous ones included.
	SubscribeAnyone = "anyone"
	// SubscribeAuthenticated admits connections with a verified token.
	SubscribeAuthenticated = "authenticated"
	// SubscribeOwner admits a verified connection whose subject equals the
	// channel's token at every "{user}" position of the pattern.
	SubscribeOwner = "owner"
)

// Rule is one [[auth.rules]] entry.
//
// A rule's pattern uses the subscription syntax of PROTOCOL.md ('*' one
// token, a last '>' one or more tokens) plus the token "{user}", allowed
// only in owner rules. For choosing the rule, "{user}" matches any one
// token like '*'; the owner check then requires that token to equal the
// subject. So user.43.favorites falls under user.{user}.> and is denied to
// user 42: it never falls through to a later rule.
type Rule struct {
	// Pattern is the channels the rule governs. Required.
	Pattern string `toml:"pattern"`
	// Subscribe is who may subscribe: "anyone", "authenticated" or
	// "owner" ("owner" requires "{user}" in the pattern). Required.
	Subscribe string `toml:"subscribe"`
	// Wildcards allows wildcard subscriptions under this rule, provided
	// each stays entirely inside the pattern. Default false.
	Wildcards bool `toml:"wildcards"`
}

// DefaultRules returns the rules used when the config gives none: token.*.*
// to anyone (wildcards allowed), user.{user}.> to its owner (no wildcards),
// global to anyone. Every other channel is denied.
func DefaultRules() []Rule {
	return []Rule{
		{Pattern: "token.*.*", Subscribe: SubscribeAnyone, Wildcards: true},
		{Pattern: "user.{user}.>", Subscribe: SubscribeOwner},
		{Pattern: "global", Subscribe: SubscribeAnyone},
	}
}

// policy is a compiled Rule.Subscribe.
type policy uint8

const (
	policyAnyone policy = iota
	policyAuthenticated
	policyOwner
)

// rule is a compiled Rule.
type rule struct {
	toks      []ptok
	policy    policy
	wildcards bool
}

// Rules is a compiled, immutable rule list. Allow is safe for concurrent
// use.
type Rules struct {
	rules []rule
}

// Deny messages of Allow, safe to show a client (FORBIDDEN or, for
// msgInvalidChannel, INVALID_CHANNEL).
const (
	msgInvalidChannel = "invalid channel name"
	msgNoRule         = "no rule allows this channel"
	msgAuthRequired   = "this channel requires authentication"
	msgNotOwner       = "this channel belongs to another user"
	msgNoWildcards    = "wildcard subscriptions are not allowed on these channels"
	msgTooWide        = "the pattern reaches channels it may not subscribe to"
)

// CompileRules checks and compiles rs. Errors name the rule and its key
// ("auth.rules[2].subscribe: ..."). A rule that an earlier rule covers
// entirely can never match and is an error too.
func CompileRules(rs []Rule) (*Rules, error) {
	var errs []error
	bad := func(i int, key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("auth.rules[%d].%s: %s", i, key, fmt.Sprintf(format, args...)))
	}
	out := &Rules{rules: make([]rule, 0, len(rs))}
	for i, r := range rs {
		toks, err := parseRulePattern(r.Pattern)
		if err != nil {
			bad(i, "pattern", "%v", err)
		}
		var p policy
		switch r.Subscribe {
		case SubscribeAnyone:
			p = policyAnyone
		case SubscribeAuthenticated:
			p = policyAuthenticated
		case SubscribeOwner:
			p = policyOwner
		case "":
			bad(i, "subscribe", "missing; want %q, %q or %q", SubscribeAnyone, SubscribeAuthenticated, SubscribeOwner)
		default:
			bad(i, "subscribe", "%q; want %q, %q or %q", r.Subscribe, SubscribeAnyone, SubscribeAuthenticated, SubscribeOwner)
		}
		if err != nil {
			continue
		}
		hasUser := false
		for _, t := range toks {
			hasUser = hasUser || t.kind == tokUser
		}
		switch {
		case r.Subscribe == SubscribeOwner && !hasUser:
			bad(i, "subscribe", "%q needs %s in the pattern", SubscribeOwner, userPlaceholder)
		case r.Subscribe != SubscribeOwner && hasUser:
			bad(i, "pattern", "%s is allowed only with subscribe = %q", userPlaceholder, SubscribeOwner)
		}
		for j := range out.rules {
			if covers(out.rules[j].toks, toks, false) {
				bad(i, "pattern", "%q can never match: rules[%d] (%q) comes first and covers it", r.Pattern, j, rs[j].Pattern)
				break
			}
		}
		out.rules = append(out.rules, rule{toks: toks, policy: p, wildcards: r.Wildcards})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// Allow decides whether id may subscribe to sub, a channel or a wildcard
// pattern of PROTOCOL.md. It returns (true, "") or (false, a message safe
// to show the client). An invalid sub is denied with "invalid channel
// name"; callers should validate first and answer INVALID_CHANNEL.
//
// The first rule whose pattern shares a channel with sub decides; when
// none does, sub is denied. For a channel that is the first rule matching
// it. A wildcard subscription is allowed only if that rule allows
// wildcards and covers sub entirely (every channel sub matches falls under
// it, and no wildcard stands where "{user}" is), so that every channel it
// reaches is one the rule itself would allow: no earlier rule overlaps sub,
// hence none can claim a part of it.
//
// Allow does not allocate.
func (r *Rules) Allow(id Identity, sub string) (bool, string) {
	var buf [index.MaxTokens]ptok
	n, wild, ok := parseSub(sub, &buf)
	if !ok {
		return false, msgInvalidChannel
	}
	toks := buf[:n]
	for i := range r.rules {
		ru := &r.rules[i]
		if !overlaps(ru.toks, toks) {
			continue
		}
		if wild {
			if !ru.wildcards {
				return false, msgNoWildcards
			}
			if !covers(ru.toks, toks, true) {
				return false, msgTooWide
			}
		}
		return ru.permit(id, toks)
	}
	return false, msgNoRule
}

// permit applies r's policy to id for a subscription that r covers.
func (r *rule) permit(id Identity, toks []ptok) (bool, string) {
	if r.policy == policyAnyone {
		return true, ""
	}
	if id.Anonymous || id.Subject == "" {
		return false, msgAuthRequired
	}
	if r.policy == policyOwner {
		for i, t := range r.toks {
			// covers(strictUser) made toks[i] a literal here.
			if t.kind == tokUser && toks[i].lit != id.Subject {
				return false, msgNotOwner
			}
		}
	}
	return true, ""
}
