package main

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Input property names of command:remote:Command (pulumi-command 1.2.1).
const (
	keyAddPreviousOutputInEnv = "addPreviousOutputInEnv"
	keyConnection             = "connection"
	keyCreate                 = "create"
	keyDelete                 = "delete"
	keyEnvironment            = "environment"
	keyLogging                = "logging"
	keyStdin                  = "stdin"
	keyTriggers               = "triggers"
	keyUpdate                 = "update"

	keyStdout = "stdout"
	keyStderr = "stderr"
)

// inputKeys lists every input property of command:remote:Command.
var inputKeys = []resource.PropertyKey{
	keyAddPreviousOutputInEnv, keyConnection, keyCreate, keyDelete, keyEnvironment,
	keyLogging, keyStdin, keyTriggers, keyUpdate,
}

func isInputKey(k resource.PropertyKey) bool {
	for _, ik := range inputKeys {
		if ik == k {
			return true
		}
	}
	return false
}

// connectionDefaults are the schema defaults of command:remote:Connection and
// command:remote:ProxyConnection (the same four for both).
var connectionDefaults = []struct {
	key resource.PropertyKey
	val resource.PropertyValue
}{
	{"user", resource.NewStringProperty("root")},
	{"port", resource.NewNumberProperty(22)},
	{"dialErrorLimit", resource.NewNumberProperty(10)},
	{"perDialTimeout", resource.NewNumberProperty(15)},
}

// unsecret strips any secret wrappers and reports whether there was one.
func unsecret(v resource.PropertyValue) (resource.PropertyValue, bool) {
	secret := false
	for v.IsSecret() {
		secret = true
		v = v.SecretValue().Element
	}
	return v, secret
}

// resecret wraps v as a secret when secret is true.
func resecret(v resource.PropertyValue, secret bool) resource.PropertyValue {
	if secret && !v.IsSecret() {
		return resource.MakeSecret(v)
	}
	return v
}

// absent reports whether a property is missing or null (the Go SDK-side
// decoder of the real provider treats both as "not set").
func absent(m resource.PropertyMap, k resource.PropertyKey) bool {
	v, ok := m[k]
	if !ok {
		return true
	}
	inner, _ := unsecret(v)
	return inner.IsNull()
}

// withConnectionDefaults returns a copy of an object-valued connection (or
// proxy) property with the schema defaults filled in where missing. Secret
// wrappers at every level are kept exactly; unknown values are left alone.
func withConnectionDefaults(v resource.PropertyValue, nestedProxy bool) resource.PropertyValue {
	inner, secret := unsecret(v)
	if !inner.IsObject() {
		return v // unknown, null or ill-typed: leave it for validation / preview
	}
	obj := inner.ObjectValue().Copy()
	for _, d := range connectionDefaults {
		if absent(obj, d.key) {
			obj[d.key] = d.val
		}
	}
	if nestedProxy {
		if p, ok := obj["proxy"]; ok {
			pi, _ := unsecret(p)
			if pi.IsNull() {
				delete(obj, "proxy")
			} else {
				obj["proxy"] = withConnectionDefaults(p, false)
			}
		}
	}
	return resecret(resource.NewObjectProperty(obj), secret)
}

// checkInputs implements Check: it refuses properties that are not inputs
// of the resource ("Unrecognized field", as 1.2.1's decoder does), drops
// nulls, fills the schema defaults (connection user/port/dialErrorLimit/
// perDialTimeout, also on the proxy; addPreviousOutputInEnv has none in
// 1.2.1), marks connection secret (the schema marks it secret) and validates
// the types of the inputs.
func checkInputs(news resource.PropertyMap) (resource.PropertyMap, []checkFailure) {
	out := resource.PropertyMap{}
	var unknown []checkFailure
	for _, k := range news.StableKeys() {
		v := news[k]
		if !isInputKey(k) {
			unknown = append(unknown, checkFailure{string(k), fmt.Sprintf("Unrecognized field '%s'", k)})
			continue
		}
		if inner, _ := unsecret(v); inner.IsNull() {
			continue
		}
		out[k] = v
	}
	if c, ok := out[keyConnection]; ok {
		out[keyConnection] = resecret(withConnectionDefaults(c, true), true)
	}
	return out, append(unknown, validateInputs(out)...)
}

type checkFailure struct {
	property string
	reason   string
}

func validateInputs(m resource.PropertyMap) []checkFailure {
	var fails []checkFailure
	fail := func(p, format string, args ...any) {
		fails = append(fails, checkFailure{p, fmt.Sprintf(format, args...)})
	}
	typed := func(path string, v resource.PropertyValue, want string) {
		inner, _ := unsecret(v)
		if inner.ContainsUnknowns() || inner.IsNull() {
			return
		}
		ok := false
		switch want {
		case "string":
			ok = inner.IsString()
		case "number":
			ok = inner.IsNumber()
		case "integer":
			ok = inner.IsNumber() && inner.NumberValue() == float64(int64(inner.NumberValue()))
		case "boolean":
			ok = inner.IsBool()
		case "array":
			ok = inner.IsArray()
		case "object":
			ok = inner.IsObject()
		}
		if !ok {
			fail(path, "%s must be of type %s, found %s", path, want, inner.TypeString())
		}
	}
	for _, k := range []resource.PropertyKey{keyCreate, keyUpdate, keyDelete, keyStdin, keyLogging} {
		if v, ok := m[k]; ok {
			typed(string(k), v, "string")
		}
	}
	if v, ok := m[keyLogging]; ok {
		if inner, _ := unsecret(v); inner.IsString() {
			switch inner.StringValue() {
			case "stdout", "stderr", "stdoutAndStderr", "none":
			default:
				fail(keyLogging, "logging must be one of stdout, stderr, stdoutAndStderr, none; found %q", inner.StringValue())
			}
		}
	}
	if v, ok := m[keyAddPreviousOutputInEnv]; ok {
		typed(keyAddPreviousOutputInEnv, v, "boolean")
	}
	if v, ok := m[keyTriggers]; ok {
		typed(keyTriggers, v, "array")
	}
	if v, ok := m[keyEnvironment]; ok {
		typed(keyEnvironment, v, "object")
		if inner, _ := unsecret(v); inner.IsObject() {
			for ek, ev := range inner.ObjectValue() {
				typed(keyEnvironment+"."+string(ek), ev, "string")
			}
		}
	}
	c, ok := m[keyConnection]
	if !ok {
		fail(keyConnection, "missing required property 'connection'")
		return fails
	}
	validateConnection(keyConnection, c, typed, fail, true)
	return fails
}

type typedFn func(path string, v resource.PropertyValue, want string)
type failFn func(p, format string, args ...any)

func validateConnection(prefix string, v resource.PropertyValue, typed typedFn, fail failFn, allowProxy bool) {
	typed(prefix, v, "object")
	inner, _ := unsecret(v)
	if !inner.IsObject() {
		return
	}
	obj := inner.ObjectValue()
	if absent(obj, "host") {
		fail(prefix+".host", "missing required property '%s.host'", prefix)
	}
	for _, s := range []resource.PropertyKey{"host", "user", "password", "privateKey", "privateKeyPassword", "agentSocketPath", "hostKey"} {
		if pv, ok := obj[s]; ok {
			typed(prefix+"."+string(s), pv, "string")
		}
	}
	if pv, ok := obj["port"]; ok {
		typed(prefix+".port", pv, "number")
	}
	for _, s := range []resource.PropertyKey{"dialErrorLimit", "perDialTimeout"} {
		if pv, ok := obj[s]; ok {
			typed(prefix+"."+string(s), pv, "integer")
		}
	}
	if pv, ok := obj["proxy"]; ok && allowProxy {
		if pi, _ := unsecret(pv); !pi.IsNull() {
			validateConnection(prefix+".proxy", pv, typed, fail, false)
		}
	}
}

// isReplaceKey reports whether a detailed-diff path forces replacement. In
// pulumi-command 1.2.1 only the top-level `triggers` key is replaceOnChanges:
// a change to one element (`triggers[0]`) is reported as an update, and the
// replace comes from the Node SDK's replaceOnChanges: ["triggers[*]"].
func isReplaceKey(path string) bool {
	return path == keyTriggers
}

// outputsFromInputs builds a resource state from checked inputs: every input
// value is copied exactly (secret wrappers included), connection is secret.
func outputsFromInputs(inputs resource.PropertyMap) resource.PropertyMap {
	out := resource.PropertyMap{}
	for k, v := range inputs {
		if !isInputKey(k) {
			continue
		}
		if inner, _ := unsecret(v); inner.IsNull() {
			continue
		}
		out[k] = v
	}
	if c, ok := out[keyConnection]; ok {
		out[keyConnection] = resecret(c, true)
	}
	return out
}
