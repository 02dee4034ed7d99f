"""``neuro help TOPIC``: the help topics 22.x has, describing this CLI."""

TOPICS: dict[str, str] = {
    "aliases": """\
Custom command aliases

Aliases are defined in the [alias] section of the user config (see "neuro help
user-config"): ~/.neuro/user.toml for all projects, .neuro.toml for one project (a
project's alias wins over a global one of the same name). An alias never hides a
built-in command.

Internal aliases run a neuro command with preset arguments; what the user types after
the alias is appended:

  [alias.lsl]
  cmd = "ls -l --human-readable"
  help = "List storage in the long format."

  neuro lsl storage:data      # runs: neuro ls -l --human-readable storage:data

External aliases run a program of the system. Declared options and arguments are
parsed like a command's and substituted into "exec": {name} in the command line is
replaced by the value; without any {name}, values are appended in order:

  [alias.du]
  exec = "neuro-du {path}"
  args = "PATH"
  options = ["-h, --human-readable  print sizes like 1K 2M"]

"args" is a space-separated list of NAME, [NAME] (optional) or NAME... (any number);
each "options" entry is "-s, --long  help", or "--long VALUE  help" for an option with
a value. The alias exits with the program's exit code.

"neuro config aliases" lists the aliases that are defined.""",
    "ps-format": """\
Columns of "neuro ps --format"

They are also what the job.ps-format setting of the user config takes.

A format is a list of column ids separated by spaces or commas, e.g.
"id name status when". Ids: id, name, status, when, image, owner, cluster, org, preset,
tags, description, command, life_span, http_url.

The default is "id name status when image owner command". Long columns (image, tags,
description, command, http_url) are cut unless --wide is given.""",
    "secrets": """\
Using secrets

A secret is a named value kept by the platform for its owner ("neuro secret add KEY
VALUE", or "neuro secret add KEY @FILE" to read it from a file). A job gets it:

  as an environment variable:  neuro run -e API_KEY=secret:api-key IMAGE
  as a file:                   neuro run -v secret:api-key:/run/key IMAGE

The value never appears in "neuro status" or in the job's description; only its URI
(secret:api-key) does. "neuro secret ls" lists the keys, "neuro secret rm KEY" removes
one. Sharing a secret (neuro acl grant secret:KEY USER read) lets another user's jobs
use it.""",
    "sharing": """\
Sharing resources

Every resource has a URI: storage:PATH, image:NAME, job:NAME-OR-ID, secret:KEY,
disk:NAME, blob:BUCKET, role://NAME. Its owner (or anyone with "manage") can give
another user or a role one of three levels, each including the ones before:

  read    see it (list, download, pull, status, logs)
  write   change it (upload, delete, push, kill)
  manage  all of the above, and share it further

  neuro acl grant storage:data bob read      # also "neuro share"
  neuro acl revoke storage:data bob
  neuro acl ls                               # what you have, --shared: what you gave

A permission on a folder covers everything below it. "neuro run --share USER" gives
USER write access to the new job.""",
    "top-format": """\
Columns of "neuro top --format"

They are also what the job.top-format setting of the user config takes.

The ids of "neuro help ps-format" and the job's latest usage: cpu (cores), memory (MB),
gpu (duty cycle, %) and gpu_memory (MB), separated by spaces or commas.

The default is "id name when cpu memory gpu gpu_memory". "neuro top --sort" takes the
same ids, comma-separated, each with an optional "-" for descending order: the default
is "cpu".""",
    "user-config": """\
User configuration files

Two optional TOML files give defaults to the CLI: ~/.neuro/user.toml (the config
directory's user.toml, for all projects) and .neuro.toml, found in the current folder or
the nearest folder above it (for one project). Both are read and merged; the project's
value wins. An unknown section or setting is an error.

[job]
  ps-format     the columns of "neuro ps" (see "neuro help ps-format")
  top-format    the columns of "neuro top" (see "neuro help top-format")
  life-span     the default --life-span of "neuro run", e.g. "4h" (default 1d)
  cluster-name  the cluster this project uses (.neuro.toml only)
  org-name      the org this project uses, NO_ORG for none (.neuro.toml only)

[storage]
  cp-exclude             patterns "neuro cp" leaves out (gitignore syntax)
  cp-exclude-from-files  ignore files read when uploading (default [".neuroignore"])

[alias]
  user-defined commands: see "neuro help aliases".""",
}
