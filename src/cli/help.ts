import { VERSION } from "../version.ts";

/** `--help` output. */
export const HELP =
  `LogWisp ${VERSION}: follows log files and streams them as JSON over HTTP/SSE and TCP

Usage: logwisp [--config FILE | -c FILE] [--router] [--check] [--quiet] [--version] [--help]

Options:
  -c, --config FILE  Configuration file (TOML). Must exist when given.
      --router       Serve every HTTP stream on one port, by path: /{stream}{path}
      --check        Validate the configuration, print a summary and exit
      --quiet        No periodic console statistics
  -V, --version      Print the version and exit
  -h, --help         Print this help and exit

Configuration, first found wins:
  --config FILE, $LOGWISP_CONFIG_FILE (relative to $LOGWISP_CONFIG_DIR),
  $LOGWISP_CONFIG_DIR/logwisp.toml, ~/.config/logwisp.toml, ./logwisp.toml,
  else the built-in default: *.log in the working directory on http://0.0.0.0:8080/stream

Exit codes: 0 clean exit (also after SIGINT/SIGTERM), 1 runtime failure,
  2 usage or configuration error

Examples:
  logwisp --config /etc/logwisp/logwisp.toml --check
  curl -N http://localhost:8080/stream
  nc localhost 9090
`;
