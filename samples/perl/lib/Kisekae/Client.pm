package Kisekae::Client;
# Kisekae::Client: the site operations of the kisekae SOAP API for Perl, over
# SOAP::Lite (Debian libsoap-lite-perl) and LWP.
#
# SOAP::Lite's WSDL mode sends unqualified parameters, which the API's
# qualified schema (urn:kisekae:v1) does not accept, so every call is built
# by hand the way the WSDL describes it: the operation element declares the
# namespace as its default (default_ns) and the parameters are its children.
# Answers are turned into plain Perl data: repeated elements are always
# array refs (also for one element or none), numbers are numbers, booleans
# 1 or 0, PNG bytes are bytes. Calls go to a list of API URLs with failover
# (see _call); faults are thrown as Kisekae::Error objects carrying the
# API's stable code.
use strict;
use warnings;

use Carp qw(croak);
use MIME::Base64 qw(decode_base64 encode_base64);
use Scalar::Util qw(blessed);
use SOAP::Lite;
use Time::HiRes ();

use Kisekae::Error;

our $VERSION = '1.0';

my $NS = 'urn:kisekae:v1';

# Calls that end the same when the API gets them twice: after a failure
# once the call was sent (reset, timeout, HTTP 5xx without a fault, the
# DatabaseUnavailable fault) they are sent again to the next URL. The others
# (CreateAvatar, DeleteAvatar, RegenerateAvatar, CreateAlbumPhoto,
# DeleteAlbumPhoto) throw instead: their outcome is unknown.
my %REPEATABLE = map { $_ => 1 } qw(
    ListCategories ListItems GetItem ListScenes GetAvatar GetAvatars PreviewAvatar
    ListMemberItems ListAlbumPhotos ChangeOutfit GrantItem RevokeItem);

# The shape of the answers: for each type, the fields that are not plain
# strings. 'int', 'bool', 'base64', a type name (a nested struct) or [KIND]
# (a repeated element: always an array ref). Field names are the WSDL's.
my %TYPES = (
    Category      => {id => 'int', zOrder => 'int', exclusive => 'bool', required => 'bool',
                      defaultItemId => 'int'},
    Layer         => {(map { $_ => 'int' } qw(layerNo zOrder x y width height)),
                      tintable => 'bool'},
    Item          => {id => 'int', categoryId => 'int', price => 'int', layer => ['Layer']},
    Avatar        => {version => 'int', wornItemId => ['int'], wornColour => ['ItemColour']},
    ItemColour    => {itemId => 'int'},
    MemberItem    => {itemId => 'int', categoryId => 'int', worn => 'bool'},
    SceneSlot     => {x => 'int', y => 'int'},
    Scene         => {id => 'int', width => 'int', height => 'int', slot => ['SceneSlot']},
    AlbumMember   => {slot => 'int', avatarVersion => 'int'},
    AlbumPhoto    => {id => 'int', sceneId => 'int', member => ['AlbumMember']},
    ListCategoriesResponse   => {category => ['Category']},
    ListItemsResponse        => {total => 'int', item => ['Item']},
    GetItemResponse          => {item => 'Item'},
    ListScenesResponse       => {scene => ['Scene']},
    CreateAvatarResponse     => {avatar => 'Avatar'},
    GetAvatarResponse        => {avatar => 'Avatar'},
    GetAvatarsResponse       => {avatar => ['Avatar'], missingUserId => ['string']},
    DeleteAvatarResponse     => {albumPhotosDeleted => 'int'},
    ChangeOutfitResponse     => {avatar => 'Avatar'},
    PreviewAvatarResponse    => {png => 'base64', wornItemId => ['int'],
                                 wornColour => ['ItemColour']},
    RegenerateAvatarResponse => {avatar => 'Avatar'},
    GrantItemResponse        => {itemId => 'int', alreadyOwned => 'bool'},
    RevokeItemResponse       => {itemId => 'int', wasOwned => 'bool', wasWorn => 'bool',
                                 avatar => 'Avatar'},
    ListMemberItemsResponse  => {total => 'int', item => ['MemberItem']},
    CreateAlbumPhotoResponse => {photo => 'AlbumPhoto'},
    ListAlbumPhotosResponse  => {total => 'int', photo => ['AlbumPhoto']},
    DeleteAlbumPhotoResponse => {photoId => 'int'},
);

# Kisekae::Client->new(urls => [...], user => ..., password => ...,
#                      connect_timeout => 10, timeout => 30)
# urls: the API URLs, tried in this order (the one that answered last is
# tried first). connect_timeout: seconds LWP waits for a connection, and
# for the server to say anything while an answer comes; timeout: seconds a
# whole call (one URL) may take. Connections are kept alive, one per URL.
sub new {
    my ($class, %args) = @_;
    my @urls = grep { length } @{$args{urls} || []};
    croak 'Kisekae::Client->new: urls => [API URLs] is required' unless @urls;
    croak 'Kisekae::Client->new: user and password are required'
        unless defined $args{user} && defined $args{password};
    return bless {
        urls            => \@urls,
        user            => $args{user},
        password        => $args{password},
        connect_timeout => $args{connect_timeout} // 10,
        timeout         => $args{timeout} // 30,
        preferred       => 0,             # index of the URL that answered last
        soap            => {},            # URL => SOAP::Lite client
    }, $class;
}

# The URL the next call goes to first: the one that answered last.
sub url { my ($self) = @_; return $self->{urls}[$self->{preferred}]; }

# ---- the site operations --------------------------------------------------------
# Each returns what the API answers, as described at %TYPES, or throws a
# Kisekae::Error.

# The categories: an array ref of {id, name, zOrder, exclusive, required,
# defaultItemId}. name => NAME: only the category of that name ([] if none).
sub list_categories {
    my ($self, %opt) = @_;
    return $self->_call('ListCategories', [_opt(\%opt, name => 'name')])->{category};
}

# Published items, a page at a time: {total, item => [...]}.
# Options: category_id, offset, limit (1 to 100, default 50).
sub list_items {
    my ($self, %opt) = @_;
    return $self->_call('ListItems', [_opt(\%opt, category_id => 'categoryId', offset => 'offset',
                                           limit => 'limit')]);
}

# One item with its layers: {id, categoryId, name, status, price, layer => [...]}.
sub get_item {
    my ($self, $item_id) = @_;
    return $self->_call('GetItem', [_p(itemId => $item_id)])->{item};
}

# Every scene (album background): an array ref of {id, name, width, height,
# sha256, slot => [{x, y}, ...]}.
sub list_scenes {
    my ($self) = @_;
    return $self->_call('ListScenes', [])->{scene};
}

# A new member's avatar, wearing the default items: {userId, version,
# imageServer, url, thumbUrl, wornItemId => [...], wornColour => [{itemId,
# colour}] (the tints: worn items worn with a colour "#RRGGBB"), animUrl (the
# APNG when it wears animated items, else absent)}. Option: image_server.
sub create_avatar {
    my ($self, $user_id, %opt) = @_;
    return $self->_call('CreateAvatar', [_p(userId => $user_id),
                                         _opt(\%opt, image_server => 'imageServer')])->{avatar};
}

# A member's avatar (as create_avatar). Option: min_version (never an older answer).
sub get_avatar {
    my ($self, $user_id, %opt) = @_;
    return $self->_call('GetAvatar', [_p(userId => $user_id),
                                      _opt(\%opt, min_version => 'minVersion')])->{avatar};
}

# The avatars of up to 100 members: {avatar => [...] (in the order asked),
# missingUserId => [ids that name no member]}.
sub get_avatars {
    my ($self, $user_ids) = @_;
    return $self->_call('GetAvatars', [map { _p(userId => $_) } @$user_ids]);
}

# Deletes a member and everything it has: {userId, albumPhotosDeleted}.
sub delete_avatar {
    my ($self, $user_id) = @_;
    return $self->_call('DeleteAvatar', [_p(userId => $user_id)]);
}

# Puts items on and takes items off, and colours worn tintable items: the
# new avatar. Options: wear => [item ids], remove => [item ids], colours =>
# {item id => '#RRGGBB'} (kept while the item stays on; a colour of another
# form dies with InvalidArgument before anything is sent).
sub change_outfit {
    my ($self, $user_id, %opt) = @_;
    return $self->_call('ChangeOutfit', [_p(userId => $user_id),
                                         _outfit('ChangeOutfit', \%opt)])->{avatar};
}

# Try-on, nothing saved: {png => PNG bytes, wornItemId => [...], wornColour
# => [{itemId, colour}]}. Options: as change_outfit.
sub preview_avatar {
    my ($self, $user_id, %opt) = @_;
    return $self->_call('PreviewAvatar', [_p(userId => $user_id),
                                          _outfit('PreviewAvatar', \%opt)]);
}

# The tints of an avatar or a preview as {item id => '#RRGGBB'}.
sub colours {
    my ($class_or_self, $answer) = @_;
    return {map { $_->{itemId} => $_->{colour} } @{$answer->{wornColour} || []}};
}

# Composes the avatar again as a new version: the new avatar.
sub regenerate_avatar {
    my ($self, $user_id) = @_;
    return $self->_call('RegenerateAvatar', [_p(userId => $user_id)])->{avatar};
}

# Gives a member an item: {itemId, alreadyOwned}.
sub grant_item {
    my ($self, $user_id, $item_id) = @_;
    return $self->_call('GrantItem', [_p(userId => $user_id), _p(itemId => $item_id)]);
}

# Takes an item from a member: {itemId, wasOwned, wasWorn, avatar}.
sub revoke_item {
    my ($self, $user_id, $item_id) = @_;
    return $self->_call('RevokeItem', [_p(userId => $user_id), _p(itemId => $item_id)]);
}

# The items a member owns, newest grant first: {total, item => [{itemId,
# categoryId, name, status, worn, grantedAt}, ...]}.
# Options: category_id, offset, limit (1 to 100, default 50).
sub list_member_items {
    my ($self, $user_id, %opt) = @_;
    return $self->_call('ListMemberItems', [_p(userId => $user_id),
                                            _opt(\%opt, category_id => 'categoryId',
                                                 offset => 'offset', limit => 'limit')]);
}

# Takes an album photo on a scene: {id, userId, sceneId, caption, url,
# createdAt, member => [{slot, userId, avatarVersion}, ...]}.
# Options: friends => [up to 4 user ids], caption => text (up to 200 bytes).
sub create_album_photo {
    my ($self, $user_id, $scene_id, %opt) = @_;
    return $self->_call('CreateAlbumPhoto', [
        _p(userId => $user_id), _p(sceneId => $scene_id),
        (map { _p(friendUserId => $_) } @{$opt{friends} || []}),
        _opt(\%opt, caption => 'caption')])->{photo};
}

# A member's album photos, newest first: {total, photo => [...]}.
# Options: offset, limit (1 to 100, default 50).
sub list_album_photos {
    my ($self, $user_id, %opt) = @_;
    return $self->_call('ListAlbumPhotos', [_p(userId => $user_id),
                                            _opt(\%opt, offset => 'offset', limit => 'limit')]);
}

# Deletes one of a member's album photos: {photoId}.
sub delete_album_photo {
    my ($self, $user_id, $photo_id) = @_;
    return $self->_call('DeleteAlbumPhoto', [_p(userId => $user_id), _p(photoId => $photo_id)]);
}

# ---- parameters -------------------------------------------------------------------

sub _p { return SOAP::Data->name(@_); }

# The options of %$opt that are given, as parameters named as the WSDL names
# them: _opt($opt, perl_name => 'wsdlName', ...).
sub _opt {
    my ($opt, @names) = @_;
    my @params;
    while (my ($key, $name) = splice @names, 0, 2) {
        push @params, _p($name => $opt->{$key}) if defined $opt->{$key};
    }
    return @params;
}

# wear, remove and colours as ChangeOutfit's and PreviewAvatar's parameters.
sub _outfit {
    my ($operation, $opt) = @_;
    my $colours = $opt->{colours} || {};
    my @colour;
    for my $item_id (sort { $a <=> $b } keys %$colours) {
        my $colour = $colours->{$item_id};
        die Kisekae::Error->new(code => 'InvalidArgument', operation => $operation,
                                message => "the colour of item $item_id must be \"#RRGGBB\" "
                                         . '(six hex digits), not "' . ($colour // '') . '"')
            unless defined $colour && $colour =~ /\A#[0-9A-Fa-f]{6}\z/ && $item_id =~ /\A\d+\z/;
        push @colour, _p(colour => \SOAP::Data->value(_p(itemId => $item_id),
                                                      _p(colour => $colour)));
    }
    return ((map { _p(wear => $_) } @{$opt->{wear} || []}),
            (map { _p(remove => $_) } @{$opt->{remove} || []}), @colour);
}

# ---- answers ----------------------------------------------------------------------

# $value as the kind says (see %TYPES).
sub _shape {
    my ($value, $kind) = @_;
    if (ref $kind eq 'ARRAY') {
        # SOAP::Lite gives a repeated element as an array ref, a single one
        # as itself and none as nothing (or '')
        my @list = ref $value eq 'ARRAY' ? @$value
                 : (defined $value && (ref $value || $value ne '')) ? ($value) : ();
        return [map { _shape($_, $kind->[0]) } @list];
    }
    return undef unless defined $value;
    return $value + 0 if $kind eq 'int';
    return $value eq 'true' || $value eq '1' ? 1 : 0 if $kind eq 'bool';
    return decode_base64($value) if $kind eq 'base64';
    return $value if $kind eq 'string';
    my $fields = $TYPES{$kind} or croak "Kisekae::Client: no type $kind";
    my %struct = ref $value eq 'HASH' ? %$value : ();
    $struct{$_} = _shape($struct{$_}, $fields->{$_}) for keys %$fields;
    delete $struct{$_} for grep { !defined $struct{$_} } keys %struct;
    return \%struct;
}

# The stable code of a fault's KisekaeFault detail, or undef.
sub _fault_code {
    my ($som) = @_;
    my $detail = $som->faultdetail;
    return ref $detail eq 'HASH' && ref $detail->{KisekaeFault} eq 'HASH'
        ? ($detail->{KisekaeFault}{code}, $detail->{KisekaeFault}{message}) : ();
}

# ---- transport and failover -------------------------------------------------------

# The SOAP::Lite client of url, made once: the operation element declares
# the API's namespace as its default, so the parameters are qualified;
# soapAction as the WSDL says; no xsi:type; Basic credentials with every
# request (LWP would send them only after a 401); one kept-alive connection.
sub _soap {
    my ($self, $url) = @_;
    return $self->{soap}{$url} ||= do {
        my $soap = SOAP::Lite->proxy($url, timeout => $self->{connect_timeout}, keep_alive => 1)
            ->default_ns($NS)
            ->on_action(sub { "$NS#$_[1]" })
            ->autotype(0)
            # a fault comes back as the SOAP::SOM; no answer at all dies
            ->on_fault(sub { my ($soap, $res) = @_;
                             return ref $res ? $res : die "no SOAP answer\n"; });
        $soap->transport->default_header(
            Authorization => 'Basic ' . encode_base64("$self->{user}:$self->{password}", ''));
        $soap;
    };
}

# One attempt of operation at url. Returns ('ok', $som), ('fault', $som) or
# (KIND, $message, $http_status) when no SOAP answer came, KIND being
# 'refused' (no connection: nothing was sent), 'lost' (sent, and then a
# reset, a timeout or an HTTP 5xx without a fault) or 'http' (another HTTP
# error without a fault: 401, 404...).
sub _attempt {
    my ($self, $url, $operation, $params) = @_;
    my $soap = $self->_soap($url);
    my $som;
    # No parameters: an empty raw body gives <Op></Op> (SOAP::Lite would
    # send xsi:nil="true", which the strict server refuses).
    $params = [SOAP::Data->type(xml => '')] unless @$params;
    my $ok = eval {
        local $SIG{ALRM} = sub { die "Kisekae::Client: timeout\n" };
        Time::HiRes::alarm($self->{timeout});
        $som = $soap->call($operation => @$params);
        Time::HiRes::alarm(0);
        1;
    };
    Time::HiRes::alarm(0);
    my $error = $@;
    return ('lost', "no answer within $self->{timeout} s")
        if !$ok && $error eq "Kisekae::Client: timeout\n";
    if ($ok) {
        return ('fault', $som) if $som->fault;
        # an HTTP error page may parse as XML too: only a 2xx is an answer
        return ('ok', $som) if $soap->transport->is_success;
    }
    my $response = $soap->transport->http_response;
    return ('lost', "$error") unless $response;
    # LWP turns a die in its read loop (our alarm) into an internal response
    return ('lost', "no answer within $self->{timeout} s")
        if $response->message =~ /^Kisekae::Client: timeout/;
    my $status = $response->status_line;
    my $internal = ($response->header('Client-Warning') // '') eq 'Internal response';
    return ('refused', $status) if $internal && $response->message =~ /^Can't connect to/;
    return ('lost', $status, ($internal ? undef : $response->code))
        if $internal || $response->code >= 500;
    return ('http', $status, $response->code);
}

# Runs operation against the URLs, from the one that answered last on, and
# returns its answer shaped as "<operation>Response" in %TYPES. It moves to
# the next URL when the connection is refused (any call) and, for the calls
# in %REPEATABLE only, when the call was lost or the answer is the fault
# DatabaseUnavailable. Any other fault is the API's answer to the call and
# is thrown at once; a call that is not repeatable and was lost throws
# OutcomeUnknown.
sub _call {
    my ($self, $operation, $params) = @_;
    my $count = @{$self->{urls}};
    my @failures;
    my $last_status;
    for my $i (0 .. $count - 1) {
        my $index = ($self->{preferred} + $i) % $count;
        my $url = $self->{urls}[$index];
        my ($kind, $answer, $status) = $self->_attempt($url, $operation, $params);
        if ($kind eq 'ok') {
            $self->{preferred} = $index;
            my $response = $answer->valueof("//${operation}Response");
            die Kisekae::Error->new(code => 'Protocol', operation => $operation, url => $url,
                                    message => "the answer has no ${operation}Response")
                unless defined $response;
            return _shape($response, "${operation}Response");
        }
        if ($kind eq 'fault') {
            my ($code, $message) = _fault_code($answer);
            if (defined $code && $code eq 'DatabaseUnavailable' && $REPEATABLE{$operation}) {
                push @failures, "$url: $code";
                next;
            }
            $self->{preferred} = $index;
            die Kisekae::Error->new(
                code => $code // 'Protocol', message => $message // $answer->faultstring // '',
                operation => $operation, url => $url, faultcode => $answer->faultcode,
                http_status => $self->_soap($url)->transport->code);
        }
        if ($kind eq 'http') {
            $self->{preferred} = $index;
            die Kisekae::Error->new(
                code => $status == 401 ? 'Unauthorized' : 'Protocol', message => $answer,
                operation => $operation, url => $url, http_status => $status);
        }
        push @failures, "$url: $answer";
        $last_status = $status;
        if ($kind eq 'lost' && !$REPEATABLE{$operation}) {
            die Kisekae::Error->new(
                code => 'OutcomeUnknown', operation => $operation, url => $url,
                http_status => $status,
                message => "sent, but no answer came ($answer); read the state again");
        }
    }
    die Kisekae::Error->new(code => 'Unavailable', operation => $operation,
                            url => $self->{urls}[$self->{preferred}], http_status => $last_status,
                            message => 'no API server answered: ' . join('; ', @failures));
}

1;

__END__

=head1 NAME

Kisekae::Client - the site operations of the kisekae SOAP API

=head1 SYNOPSIS

    use Kisekae::Client;
    my $kisekae = Kisekae::Client->new(
        urls => ['http://api1.example:17010/', 'http://api2.example:17010/'],
        user => 'site', password => $secret);
    my $avatar = $kisekae->create_avatar('alice');
    $kisekae->grant_item('alice', 12);
    $avatar = $kisekae->change_outfit('alice', wear => [12]);
    print "$avatar->{url} (version $avatar->{version})\n";

=head1 DESCRIPTION

See README.md beside this module's lib/ folder.

=cut
