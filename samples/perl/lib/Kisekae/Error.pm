package Kisekae::Error;
# Kisekae::Error: the exception Kisekae::Client throws when a call fails.
#
# code is the stable code of the API's fault (the <detail><KisekaeFault><code>
# of the answer: NotFound, NotOwned, InvalidArgument, Conflict, Unauthorized,
# Forbidden, TooLarge, ImageServerUnavailable, DatabaseUnavailable, Internal),
# or one of the client's own codes when no fault came back:
#   Unavailable     no API server could be reached, or none answered a call
#                   that is safe to send again; for a call that is not,
#                   nothing was sent (every connection was refused)
#   OutcomeUnknown  a call that is not safe to send twice was sent and no
#                   answer came (reset, timeout, HTTP 5xx without a fault):
#                   read the state again before repeating it
#   Unauthorized    HTTP 401: the API refused the credentials
#   Protocol        an answer that is not what the API sends (a fault
#                   without a KisekaeFault, an HTTP error like 404)
use strict;
use warnings;
use overload '""' => \&as_string, fallback => 1;

our $VERSION = '1.0';

# Kisekae::Error->new(code => ..., message => ..., operation => ..., url => ...,
# faultcode => ..., http_status => ...): code and message are required.
sub new {
    my ($class, %args) = @_;
    die "Kisekae::Error->new: code and message are required\n"
        unless defined $args{code} && defined $args{message};
    return bless {%args}, $class;
}

sub code        { return $_[0]{code}; }
sub message     { return $_[0]{message}; }
sub operation   { return $_[0]{operation}; }   # the SOAP operation that failed
sub url         { return $_[0]{url}; }         # the API URL that answered (or failed last)
sub faultcode   { return $_[0]{faultcode}; }   # SOAP faultcode (...:Client / ...:Server) of a fault
sub http_status { return $_[0]{http_status}; } # the HTTP status, when there was one

# "ChangeOutfit: NotOwned: the member does not own item 12 (http://...)"
sub as_string {
    my ($self) = @_;
    return join('', ($self->{operation} ? "$self->{operation}: " : ''),
                "$self->{code}: $self->{message}", ($self->{url} ? " ($self->{url})" : ''));
}

1;

__END__

=head1 NAME

Kisekae::Error - an error of a kisekae SOAP API call

=head1 SYNOPSIS

    use Scalar::Util qw(blessed);
    my $avatar = eval { $client->get_avatar($user_id) };
    if (blessed $@ && $@->isa('Kisekae::Error') && $@->code eq 'NotFound') {
        $avatar = $client->create_avatar($user_id);
    } elsif ($@) {
        die $@;
    }

=head1 DESCRIPTION

Thrown by every method of L<Kisekae::Client> that fails. Branch on C<code>,
never on C<message> (its wording may change). See the top of this file for
the codes.

=cut
