#!/usr/bin/perl
# dbd_mariadb_test.pl - Perl DBI with DBD::MariaDB (Debian libdbd-mariadb-perl) through the proxy.
#
# The same flow twice: once with the driver's default client-side placeholders
# (parameters escaped into COM_QUERY text), once with mariadb_server_prepare=1
# (every statement a server-side prepared statement: COM_STMT_PREPARE/EXECUTE,
# results in the binary protocol). Each pass: parameters of every common kind
# (utf8mb4 string with an emoji, NULL, DECIMAL, DATETIME(6)) round-trip exactly,
# a transaction (begin_work: autocommit off) commits, another rolls back.
# Exits 1 with a one-line message on the first mismatch.
#
# Reads outside a transaction may run on a replica; at level session
# (with_proxy.sh) they must see this connection's writes the first time, so
# none is retried. Reads inside a transaction run on its server.
use strict;
use warnings;
use utf8;
use DBI;
use Encode qw(encode);

binmode STDOUT, ':encoding(UTF-8)';
binmode STDERR, ':encoding(UTF-8)';

my $NAME = 'dbd_mariadb_test.pl';
my $COLUMNS = 'id, s, n, d, t';
# DECIMAL and DATETIME arrive as strings; NULL as undef.
my @ROWS = (
    [1, 'plain ascii', 7, '-0.5000', '2000-01-01 00:00:00.000000'],
    [2, "h\x{e9}llo \x{1F42C} w\x{f6}rld \x{2713}", undef, '12345678.9012',
     '2024-02-29 23:59:58.123456'],
);
my $COMMITTED = [3, "committed \x{1F600}", -2147483648, '0.0001', '1999-12-31 23:59:59.999999'];
my $ROLLED_BACK = [4, 'rolled back', 1, '1.0000', '2001-02-03 04:05:06.000000'];

for my $var (qw(GTIDPROXY_PROXY_HOST GTIDPROXY_PROXY_PORT GTIDPROXY_APP_USER GTIDPROXY_APP_PASSWORD)) {
    defined $ENV{$var} or die "$NAME: $var is not set: run this through tests/drivers/with_proxy.sh\n";
}

sub fail_test { print STDERR "$NAME: FAIL: $_[0]\n"; exit 1; }

sub show_rows {
    my ($rows) = @_;
    return '[' . join(', ', map { '(' . join(', ', map { defined $_ ? "'$_'" : 'NULL' } @$_) . ')' }
                      @$rows) . ']';
}

# Exact comparison: NULL only matches NULL, everything else as text.
sub same_rows {
    my ($a, $b) = @_;
    return 0 unless @$a == @$b;
    for my $i (0 .. $#$a) {
        return 0 unless @{$a->[$i]} == @{$b->[$i]};
        for my $j (0 .. $#{$a->[$i]}) {
            my ($x, $y) = ($a->[$i][$j], $b->[$i][$j]);
            return 0 if defined $x != defined $y;
            return 0 if defined $x && "$x" ne "$y";
        }
    }
    return 1;
}

sub check {
    my ($what, $expected, $got) = @_;
    same_rows($expected, $got) or
        fail_test("$what: expected " . show_rows($expected) . ', got ' . show_rows($got));
}

sub fetch {
    my ($dbh, $sql, @args) = @_;
    return $dbh->selectall_arrayref($sql, undef, @args);
}

# A read outside a transaction: it must already see this connection's writes.
sub visible {
    my ($dbh, $what, $expected, $sql, @args) = @_;
    check($what, $expected, fetch($dbh, $sql, @args));
}

sub run_flow {
    my ($label, $table, $server_prepare) = @_;
    my $dsn = "DBI:MariaDB:database=gtidproxy_test;host=$ENV{GTIDPROXY_PROXY_HOST};"
        . "port=$ENV{GTIDPROXY_PROXY_PORT};mariadb_server_prepare=$server_prepare";
    my $dbh = DBI->connect($dsn, $ENV{GTIDPROXY_APP_USER}, $ENV{GTIDPROXY_APP_PASSWORD},
                           { RaiseError => 1, PrintError => 0, AutoCommit => 1 });
    ($dbh->{mariadb_server_prepare} // 0) == $server_prepare
        or fail_test("$label: mariadb_server_prepare is not $server_prepare");
    my $insert = "INSERT INTO $table ($COLUMNS) VALUES (?, ?, ?, ?, ?)";
    my $select_all = "SELECT $COLUMNS FROM $table ORDER BY id";

    $dbh->do("DROP TABLE IF EXISTS $table");
    $dbh->do("CREATE TABLE $table (id INT PRIMARY KEY,"
             . ' s VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,'
             . ' n INT NULL, d DECIMAL(12,4), t DATETIME(6)) ENGINE=InnoDB');
    my $sth = $dbh->prepare($insert);
    for my $row (@ROWS) {
        my $n = $sth->execute(@$row);
        $n == 1 or fail_test("$label: INSERT id=$row->[0] affected $n rows, expected 1");
    }
    visible($dbh, "$label: SELECT after INSERT", \@ROWS, $select_all);
    # The server holds the string's UTF-8 bytes, not a double-encoded copy.
    visible($dbh, "$label: stored bytes of the utf8mb4 string",
            [[uc unpack('H*', encode('UTF-8', $ROWS[1][1]))]],
            "SELECT HEX(s) FROM $table WHERE id = 2");
    visible($dbh, "$label: SELECT by utf8mb4 parameter", [[2]],
            "SELECT id FROM $table WHERE s = ?", $ROWS[1][1]);

    $dbh->begin_work;
    $sth->execute(@$COMMITTED);
    check("$label: SELECT inside the transaction", [$COMMITTED],
          fetch($dbh, "SELECT $COLUMNS FROM $table WHERE id = ?", $COMMITTED->[0]));
    $dbh->commit;
    visible($dbh, "$label: SELECT after COMMIT", [@ROWS, $COMMITTED], $select_all);

    $dbh->begin_work;
    $sth->execute(@$ROLLED_BACK);
    check("$label: SELECT inside the rolled-back transaction", [[4]],
          fetch($dbh, "SELECT id FROM $table WHERE id = 4"));
    $dbh->rollback;
    # In a transaction, so on the primary: a replica could lack row 4 merely
    # because it is behind.
    $dbh->begin_work;
    check("$label: SELECT after ROLLBACK", [@ROWS, $COMMITTED], fetch($dbh, $select_all));
    $dbh->commit;

    $sth->finish;
    $dbh->do("DROP TABLE $table");
    $dbh->disconnect;
}

run_flow('client-side placeholders', 'drv_dbd_mariadb', 0);
run_flow('mariadb_server_prepare=1', 'drv_dbd_mariadb_ps', 1);
print "$NAME: ok\n";
