package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/amili-import/amili-import/config"
)

// common are the options every verb that runs with the config shares, declared once so a verb
// cannot forget one.
type common struct {
	config   string
	logLevel string
}

// register adds --config and --log-level to fs.
func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", config.DefaultPath, "config file")
	fs.StringVar(&c.logLevel, "log-level", "", "debug, info, warn or error (default log.level)")
}

// load reads the config, builds the logger from it (--log-level over log.level) and logs the
// config's warnings: the one setup of every verb that runs with the config.
func (c *common) load(e *env) (*config.Config, logger, error) {
	cfg, err := loadConfig(c.config, e.getenv)
	if err != nil {
		return nil, nil, err
	}
	log, err := newLogger(e, cfg, c.logLevel)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range cfg.Warnings {
		log.Warn("config: " + w)
	}
	return cfg, log, nil
}

// newFlagSet is a verb's flag set: its errors and its usage (the text, then the flags) go to
// stderr.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), usage)
		fs.PrintDefaults()
	}
	return fs
}

// loadConfig reads the config file and checks what spans two packages' options, so that every
// verb, and a daemon's reload, refuses such a config before anything runs.
func loadConfig(path string, getenv func(string) string) (*config.Config, error) {
	cfg, err := config.Load(path, getenv)
	if err != nil {
		return nil, err
	}
	if _, err := inDoubtGrace(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}
