package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/envfile"
)

// maxEnvFile is the largest .env file read.
const maxEnvFile = 1 << 20

// readEnvFiles reads the .env files s names (--env-file, or
// N8N_SECRETS_ENV_FILE) and returns environ followed by the variables they
// set that environ does not: the files lie under the process environment.
// Of two files setting one name, the later wins, as in Compose. A file is
// read under the settings' deadline (a FIFO must not hang the start).
func readEnvFiles(s *settings, environ []string) ([]string, error) {
	env := envMap(environ)
	lookup := func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
	fromFiles := map[string]string{}
	var order []string
	for i, path := range strings.Split(s.EnvFile, ",") {
		if path = strings.TrimSpace(path); path == "" {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
		data, err := inject.Call(ctx, func() ([]byte, error) { return readSmallFile(path) })
		cancel()
		if err != nil {
			// A file that cannot be read is named by its place in the
			// list: the text may be anything pasted in the wrong place.
			return nil, usagef("", "%s: file %d: %v", s.name("env-file"), i+1, err)
		}
		where := fmt.Sprintf("%s: %s", s.name("env-file"), path)
		vars, warnings, err := envfile.Parse(data, lookup)
		if err != nil {
			return nil, usagef("the file follows Compose's .env syntax: NAME=value lines", "%s: %v", where, err)
		}
		for _, w := range warnings {
			s.logger().Warn("an env file interpolates a variable that is not set: taken as empty, as Compose does",
				"code", codeEnvFileVarUnset, "file", path, "line", w.Line, "var", w.Var)
		}
		for _, v := range vars {
			if v.Name == settingByFlag("env-file").varName() {
				return nil, usagef("", "%s: line %d: an env file cannot name other env files", where, v.Line)
			}
			if _, ok := fromFiles[v.Name]; !ok {
				order = append(order, v.Name)
			}
			fromFiles[v.Name] = v.Value
		}
	}
	out := append([]string(nil), environ...)
	for _, name := range order {
		if _, set := env[name]; !set {
			out = append(out, name+"="+fromFiles[name])
		}
	}
	return out, nil
}

// readSmallFile reads a file (or a pipe: --env-file <(…)) of at most maxEnvFile bytes. Its
// errors name the kind of problem, not the content.
func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("cannot open the file: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.IsDir() {
		return nil, errors.New("a directory, not a file")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxEnvFile+1))
	if err != nil {
		return nil, errors.New("cannot read the file")
	}
	if len(data) > maxEnvFile {
		return nil, fmt.Errorf("larger than %d bytes", maxEnvFile)
	}
	return data, nil
}
