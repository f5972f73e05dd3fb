package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// secretRef is one secret reference in the file, for checking at load time.
type secretRef struct {
	key       string // the config key, for messages
	env, file string
}

func (c *Config) secretRefs() []secretRef {
	var refs []secretRef
	add := func(key, env, file string) {
		if env != "" || file != "" {
			refs = append(refs, secretRef{key, env, file})
		}
	}
	a := c.Amili.Auth
	add("amili.auth.api_code", a.APICodeEnv, a.APICodeFile)
	add("amili.auth.token", a.TokenEnv, a.TokenFile)
	add("amili.auth.private_key_file", "", a.PrivateKeyFile)
	addSFTP := func(key string, s SFTP) {
		add(key+".private_key_file", "", s.PrivateKeyFile)
		add(key+".private_key_passphrase", s.PrivateKeyPassphraseEnv, s.PrivateKeyPassphraseFile)
		add(key+".password", s.PasswordEnv, s.PasswordFile)
	}
	seen := map[SFTP]bool{}
	for i, j := range c.Jobs {
		if j.Source.Type == "sftp" && j.Source.SFTP != nil && !seen[*j.Source.SFTP] {
			seen[*j.Source.SFTP] = true
			addSFTP(fmt.Sprintf("jobs[%d].source.sftp", i), *j.Source.SFTP)
		}
	}
	add("smtp.password", c.SMTP.PasswordEnv, c.SMTP.PasswordFile)
	return refs
}

// ReadSecret returns the secret named by an *_env variable name or a *_file path (the file
// wins when both are set; trailing newlines are trimmed). getenv nil means os.Getenv.
func ReadSecret(env, file string, getenv func(string) string) (string, error) {
	v, _, err := readSecret(env, file, getenv)
	return v, err
}

// readSecret is ReadSecret plus a warning for a file that others may read.
func readSecret(env, file string, getenv func(string) string) (string, string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if file != "" {
		st, err := os.Stat(file)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return "", "", fmt.Errorf("secret file %s does not exist", file)
			}
			return "", "", fmt.Errorf("secret file: %w", err)
		}
		if st.IsDir() {
			return "", "", fmt.Errorf("secret file %s is a directory", file)
		}
		var warn string
		if st.Mode().Perm()&0o077 != 0 {
			warn = fmt.Sprintf("%s is readable by others (mode %04o); run chmod 600 %s", file, st.Mode().Perm(), file)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return "", "", fmt.Errorf("secret file: %w", err)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", "", fmt.Errorf("secret file %s is empty", file)
		}
		return v, warn, nil
	}
	if env != "" {
		v := getenv(env)
		if v == "" {
			return "", "", fmt.Errorf("environment variable %s is not set", env)
		}
		return v, "", nil
	}
	return "", "", nil
}
