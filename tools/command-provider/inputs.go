package main

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// connectionBase holds the fields shared by command:remote:Connection and
// command:remote:ProxyConnection.
type connectionBase struct {
	User               *string
	Password           *string
	Host               *string
	Port               *float64
	PrivateKey         *string
	PrivateKeyPassword *string
	AgentSocketPath    *string
	HostKey            *string
	DialErrorLimit     *int
	PerDialTimeout     *int
}

// connection is command:remote:Connection.
type connection struct {
	connectionBase
	Proxy *connectionBase
}

// commandState is the decoded (secret-free) view of the inputs / state of a
// command:remote:Command, used only to run commands.
type commandState struct {
	Connection             *connection
	Environment            map[string]string
	Create                 *string
	Update                 *string
	Delete                 *string
	Stdin                  *string
	Logging                *string
	AddPreviousOutputInEnv *bool
	Stdout                 string
	Stderr                 string
}

func strField(m resource.PropertyMap, k resource.PropertyKey) (*string, error) {
	v, ok := m[k]
	if !ok {
		return nil, nil
	}
	v, _ = unsecret(v)
	switch {
	case v.IsNull():
		return nil, nil
	case v.IsString():
		s := v.StringValue()
		return &s, nil
	case v.ContainsUnknowns():
		return nil, fmt.Errorf("%s is unknown", k)
	}
	return nil, fmt.Errorf("%s: expected a string, got %s", k, v.TypeString())
}

func numField(m resource.PropertyMap, k resource.PropertyKey) (*float64, error) {
	v, ok := m[k]
	if !ok {
		return nil, nil
	}
	v, _ = unsecret(v)
	switch {
	case v.IsNull():
		return nil, nil
	case v.IsNumber():
		f := v.NumberValue()
		return &f, nil
	case v.ContainsUnknowns():
		return nil, fmt.Errorf("%s is unknown", k)
	}
	return nil, fmt.Errorf("%s: expected a number, got %s", k, v.TypeString())
}

func intField(m resource.PropertyMap, k resource.PropertyKey) (*int, error) {
	f, err := numField(m, k)
	if err != nil || f == nil {
		return nil, err
	}
	i := int(*f)
	return &i, nil
}

func decodeConnectionBase(m resource.PropertyMap) (connectionBase, error) {
	var c connectionBase
	var err error
	for _, f := range []struct {
		k   resource.PropertyKey
		dst **string
	}{
		{"user", &c.User}, {"password", &c.Password}, {"host", &c.Host},
		{"privateKey", &c.PrivateKey}, {"privateKeyPassword", &c.PrivateKeyPassword},
		{"agentSocketPath", &c.AgentSocketPath}, {"hostKey", &c.HostKey},
	} {
		if *f.dst, err = strField(m, f.k); err != nil {
			return c, err
		}
	}
	if c.Port, err = numField(m, "port"); err != nil {
		return c, err
	}
	if c.DialErrorLimit, err = intField(m, "dialErrorLimit"); err != nil {
		return c, err
	}
	if c.PerDialTimeout, err = intField(m, "perDialTimeout"); err != nil {
		return c, err
	}
	return c, nil
}

func decodeConnection(v resource.PropertyValue) (*connection, error) {
	v, _ = unsecret(v)
	if v.IsNull() {
		return nil, nil
	}
	if !v.IsObject() {
		return nil, fmt.Errorf("connection: expected an object, got %s", v.TypeString())
	}
	obj := v.ObjectValue()
	base, err := decodeConnectionBase(obj)
	if err != nil {
		return nil, fmt.Errorf("connection.%w", err)
	}
	c := &connection{connectionBase: base}
	if p, ok := obj["proxy"]; ok {
		p, _ = unsecret(p)
		if p.IsObject() {
			pb, err := decodeConnectionBase(p.ObjectValue())
			if err != nil {
				return nil, fmt.Errorf("connection.proxy.%w", err)
			}
			c.Proxy = &pb
		} else if !p.IsNull() {
			return nil, fmt.Errorf("connection.proxy: expected an object, got %s", p.TypeString())
		}
	}
	return c, nil
}

// decodeState reads a property map (inputs or state) into a commandState,
// dropping secretness (it is only used to act, never returned).
func decodeState(m resource.PropertyMap) (*commandState, error) {
	s := &commandState{}
	var err error
	if c, ok := m[keyConnection]; ok {
		if s.Connection, err = decodeConnection(c); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		k   resource.PropertyKey
		dst **string
	}{
		{keyCreate, &s.Create}, {keyUpdate, &s.Update}, {keyDelete, &s.Delete},
		{keyStdin, &s.Stdin}, {keyLogging, &s.Logging},
	} {
		if *f.dst, err = strField(m, f.k); err != nil {
			return nil, err
		}
	}
	if v, ok := m[keyAddPreviousOutputInEnv]; ok {
		v, _ = unsecret(v)
		if v.IsBool() {
			b := v.BoolValue()
			s.AddPreviousOutputInEnv = &b
		}
	}
	if v, ok := m[keyEnvironment]; ok {
		v, _ = unsecret(v)
		if v.IsObject() {
			s.Environment = map[string]string{}
			for k, ev := range v.ObjectValue() {
				ev, _ = unsecret(ev)
				if !ev.IsString() {
					return nil, fmt.Errorf("environment.%s: expected a string, got %s", k, ev.TypeString())
				}
				s.Environment[string(k)] = ev.StringValue()
			}
		} else if !v.IsNull() {
			return nil, fmt.Errorf("environment: expected an object, got %s", v.TypeString())
		}
	}
	if p, _ := strField(m, keyStdout); p != nil {
		s.Stdout = *p
	}
	if p, _ := strField(m, keyStderr); p != nil {
		s.Stderr = *p
	}
	return s, nil
}

func (s *commandState) shouldLogStdout() bool {
	return s.Logging == nil || *s.Logging == "stdout" || *s.Logging == "stdoutAndStderr"
}

func (s *commandState) shouldLogStderr() bool {
	return s.Logging == nil || *s.Logging == "stderr" || *s.Logging == "stdoutAndStderr"
}
