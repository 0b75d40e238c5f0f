"""deploy/replication.py: the SQL side of a `./kisekae` stack's MariaDB
instances (the launcher starts and stops them): the master's accounts and
databases, the replicas pointed at the master, waiting until they caught up,
the master's semi-synchronous side, and the checks and first steps of
`./kisekae promote`. deploy/stack.py runs it (its db-* commands) for the
stack in a state folder; which replicas run is the launcher's to say (it
knows their PIDs).

Every statement goes to an instance as its root through its socket, on
stdin (never argv: some hold passwords).
"""

import subprocess
import sys
from pathlib import Path

from render import render


class ReplicationError(Exception):
    pass


def warn(message):
    print("kisekae: warning: %s" % message, file=sys.stderr)


def tail_log(path, count=25):
    path = Path(path)
    if path.exists() and path.stat().st_size:
        lines = path.read_text(errors="replace").splitlines()[-count:]
        print("---- last lines of %s ----\n%s" % (path, "\n".join(lines)), file=sys.stderr)


class Replication:
    """The MariaDB instances of stack (a stack.Stack); running: the names
    of the replicas that run."""

    def __init__(self, stack, running):
        self.stack = stack
        self.running = [name for name in stack.db_replicas() if name in running]
        self.master = stack.master
        self.wait_s = int(stack["KS_WAIT_S"])

    def sql(self, name, statements, quiet=False):
        """The answer of STATEMENTS on instance NAME, tab-separated, no
        column names; raises ReplicationError when mariadb fails."""
        done = subprocess.run(
            ["mariadb", "--defaults-file=%s" % (self.stack.db_dir / name / "my.cnf"), "-N", "-B"],
            input=statements + "\n", stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL if quiet else None, text=True)
        if done.returncode != 0:
            raise ReplicationError("%s: mariadb failed" % name)
        return done.stdout.rstrip("\n")

    def must(self, name, statements, error, quiet=False, want=None):
        """sql(), or ReplicationError(error) when it fails (or does not answer WANT)."""
        try:
            answer = self.sql(name, statements, quiet)
        except ReplicationError:
            answer = None
        if answer is None or (want is not None and answer != want):
            raise ReplicationError(error)
        return answer

    def slave_status(self, name):
        """SHOW SLAVE STATUS of NAME as {field: value} ({} when not a replica)."""
        done = subprocess.run(
            ["mariadb", "--defaults-file=%s" % (self.stack.db_dir / name / "my.cnf"),
             "-e", r"SHOW SLAVE STATUS\G"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        fields = {}
        for line in done.stdout.splitlines():
            key, sep, value = line.strip().partition(": ")
            if sep:
                fields[key] = value
        return fields

    def setup(self):
        """(Idempotent) the master's accounts and databases
        (templates/db-setup.sql; the root and anonymous TCP accounts are
        dropped), each running replica pointed at the master, a sync, and
        the master's semi-synchronous side on."""
        m = self.master
        accounts = self.must(m, "SELECT CONCAT(QUOTE(user), '@', QUOTE(host)) FROM mysql.user"
                             " WHERE user IN ('root', '') AND host <> 'localhost'",
                             "%s: could not list the root accounts" % m)
        if accounts:
            open_ = ",".join(accounts.splitlines())
            self.must(m, "DROP USER IF EXISTS %s" % open_, "%s: could not drop %s" % (m, open_))
        self.must(m, render("db-setup.sql", self.stack.db_setup_vars()),
                  "%s: could not create the users and the database" % m)
        self.follow()
        self.sync()
        self.semisync()

    def follow(self):
        """Each running replica replicates from the master (again when its
        port changed; a former master, see promote, goes on from its own
        binlog)."""
        port = self.stack.db_port(self.master)
        for name in self.running:
            current = self.slave_status(name).get("Master_Port", "")
            if current != str(port):
                if not current:
                    self.must(name, "SET GLOBAL gtid_slave_pos ="
                              " IF(@@gtid_binlog_pos = '', @@gtid_slave_pos, @@gtid_binlog_pos)",
                              "%s: gtid_slave_pos" % name)
                self.must(name, "STOP SLAVE; CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d,"
                          " MASTER_USER='repl', MASTER_PASSWORD='%s', MASTER_USE_GTID=slave_pos,"
                          " MASTER_CONNECT_RETRY=1, MASTER_HEARTBEAT_PERIOD=1;"
                          % (port, self.stack["KS_REPL_PASSWORD"]), "%s: CHANGE MASTER failed" % name)
            self.must(name, "START SLAVE", "%s: START SLAVE failed" % name, quiet=True)

    def sync(self):
        """Waits until every running replica has applied the master's binlog."""
        m = self.master
        pos = self.must(m, "SELECT @@gtid_binlog_pos", "%s: cannot read @@gtid_binlog_pos" % m)
        if not pos:
            return
        for name in self.stack.db_replicas():
            if name not in self.running:
                warn("%s does not run (see './kisekae up')" % name)
                continue
            try:
                if self.sql(name, "SELECT MASTER_GTID_WAIT('%s', %d)" % (pos, self.wait_s)) == "0":
                    continue
            except ReplicationError:
                pass
            status = self.slave_status(name)
            for key, value in status.items():
                if any(word in key for word in ("Running", "Error", "Seconds_Behind", "Gtid")):
                    print("%s: %s" % (key, value), file=sys.stderr)
            tail_log(self.stack.db_dir / name / "err.log")
            raise ReplicationError("%s did not catch up with the master (gtid %s) within %d s"
                                   % (name, pos, self.wait_s))

    def semisync(self):
        """Every commit on the master waits until a replica has it in its
        relay log (README, "Losing the database master"), once the master
        has a running replica; alone, it commits alone."""
        on = 1 if self.running else 0
        self.must(self.master, "SET GLOBAL rpl_semi_sync_master_enabled = %d" % on,
                  "%s: cannot set rpl_semi_sync_master_enabled" % self.master)
        if not on and self.stack.db_replicas():
            warn("the master %s has no running replica: its commits are on it alone until one"
                 " joins ('./kisekae up')" % self.master)

    def promote(self, new):
        """The first steps of promoting replica NEW: every running replica
        applies its relay log; NEW must hold the most (semisync put every
        acknowledged write on one of them); then NEW stops replicating and
        takes writes. The launcher records it as the master."""
        mine, best, ahead = 0, -1, None
        for name in self.running:
            pos = self.slave_status(name).get("Gtid_IO_Pos", "")
            self.must(name, "SELECT MASTER_GTID_WAIT('%s', %d)" % (pos, self.wait_s),
                      "promote: %s did not apply its relay log (%s) within %d s" % (name, pos, self.wait_s),
                      want="0")
            applied = self.sql(name, "SELECT 0 + SUBSTRING_INDEX(@@gtid_slave_pos, '-', -1)")
            applied = int(float(applied or 0))     # the sequence number of its last transaction
            print("%s: applied up to %s" % (name, self.sql(name, "SELECT @@gtid_slave_pos")), flush=True)
            if name == new:
                mine = applied
            elif applied > best:
                best, ahead = applied, name
        if best > mine:
            raise ReplicationError("promote: %s has more than %s: promote %s" % (ahead, new, ahead))
        self.must(new, "STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = 0",
                  "%s: could not stop replicating" % new)
