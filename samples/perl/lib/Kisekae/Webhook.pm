package Kisekae::Webhook;
# Kisekae::Webhook: checks the signature of a kisekae webhook request, as the
# page that receives it must before it trusts the body.
#
# The API's webhook sender POSTs a JSON body with the header
#   X-Kisekae-Signature: t=<unix time>,v1=<hex HMAC-SHA256>
# the HMAC under the webhook's secret (given to RegisterWebhook) of
# "<unix time>.<body>". verify_signature recomputes it over the RAW body (the
# bytes received, before any JSON decoding), compares in constant time and
# refuses a time further than the tolerance from now (5 minutes by default),
# so a recorded request cannot be replayed later. Events arrive at least
# once: de-duplicate by the body's "id" (also the header X-Kisekae-Event-Id).
use strict;
use warnings;

use Digest::SHA qw(hmac_sha256_hex);
use Exporter qw(import);

our $VERSION = '1.0';
our @EXPORT_OK = qw(verify_signature);

# Seconds a signature's time may be away from now.
our $TOLERANCE = 300;

# verify_signature($body, $header, $secret, tolerance => 300, now => time):
# 1 when $header (the X-Kisekae-Signature value) signs the bytes $body under
# $secret at a time at most tolerance seconds from now, else 0. Any header
# not of the form "t=...,v1=..." is refused.
sub verify_signature {
    my ($body, $header, $secret, %opt) = @_;
    my $tolerance = $opt{tolerance} // $TOLERANCE;
    my $now = $opt{now} // time;
    return 0 unless defined $body && defined $header && defined $secret && length $secret;
    my ($time, @signatures);
    for my $part (split /,/, $header) {
        my ($key, $value) = split /=/, $part, 2;
        next unless defined $value;
        $key =~ s/^\s+|\s+$//g;
        if ($key eq 't' && $value =~ /\A\d{1,12}\z/) {
            $time = $value;
        } elsif ($key eq 'v1' && $value =~ /\A[0-9a-f]{64}\z/) {
            push @signatures, $value;
        }
    }
    return 0 unless defined $time && @signatures;
    return 0 if abs($now - $time) > $tolerance;
    my $expected = hmac_sha256_hex("$time.$body", $secret);
    my $good = 0;
    $good |= _same($expected, $_) for @signatures;    # all compared: no early way out
    return $good;
}

# 1 when the strings (of the same length) are equal, in time that does not
# depend on where they differ.
sub _same {
    my ($x, $y) = @_;
    return 0 unless length($x) == length($y);
    my $diff = 0;
    $diff |= ord(substr $x, $_, 1) ^ ord(substr $y, $_, 1) for 0 .. length($x) - 1;
    return $diff == 0 ? 1 : 0;
}

1;

__END__

=head1 NAME

Kisekae::Webhook - checks the X-Kisekae-Signature of a kisekae webhook request

=head1 SYNOPSIS

    use Kisekae::Webhook qw(verify_signature);
    my $body = do { local $/; <STDIN> };            # the raw body, as received
    unless (verify_signature($body, $ENV{HTTP_X_KISEKAE_SIGNATURE} // '', $secret)) {
        print "Status: 400 Bad Request\r\n\r\n";
        exit;
    }

=cut
