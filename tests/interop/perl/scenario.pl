#!/usr/bin/perl
# scenario.pl: the interop scenario through Perl SOAP::Lite (Debian
# libsoap-lite-perl).
#
# SOAP::Lite's WSDL mode (SOAP::Lite->service) sends unqualified parameters,
# which this API's qualified schema does not accept, so the calls are built
# by hand as the WSDL describes them; the WSDL the API serves
# (KISEKAE_API_URL + "?wsdl") is read for its operation names. Runs the
# scenario every language of tests/interop runs, printing one line per step
# ("ok", "FAIL" or "skip") and exiting 1 on any mismatch. The steps and the
# environment it reads are described in tests/interop/run.py.
#
#   KISEKAE_API_URL=... KISEKAE_SITE_USER=... (see run.py) perl scenario.pl
use strict;
use warnings;
use MIME::Base64 qw(decode_base64 encode_base64);
use SOAP::Lite;

my $LANG = 'perl';
my $NS = 'urn:kisekae:v1';
my $failures = 0;
my $current_step = 'setup';     # named in the message of an unexpected error

$| = 1;

sub begin { $current_step = shift; }

sub ok { my ($step, $text) = @_; print "ok   $step: $text\n"; }

sub check {
    my ($cond, $step, $text) = @_;
    print +($cond ? 'ok  ' : 'FAIL') . " $step: $text\n";
    $failures++ unless $cond;
    return $cond;
}

sub fatal {
    my ($step, $text) = @_;
    print "FAIL $step: $text\n$LANG: FAILED\n";
    exit 1;
}

sub env {
    my ($name, $default) = @_;
    my $value = $ENV{$name};
    $value = $default if !defined $value || $value eq '';
    if (!defined $value || $value eq '') {
        print STDERR "$LANG: $name is not set (see tests/interop/run.py)\n";
        exit 2;
    }
    return $value;
}

# A SOAP::Lite client for one role:
# - default_ns: the method element declares urn:kisekae:v1 as the default
#   namespace, so the parameters are qualified as the schema says;
# - on_action: the WSDL's soapAction (the server does not need it);
# - autotype(0): no xsi:type on every element;
# - Basic auth sent with every request (LWP would otherwise send it only
#   after a 401 challenge); keep_alive reuses the connection.
sub client {
    my ($endpoint, $user, $password) = @_;
    my $soap = SOAP::Lite->proxy($endpoint, timeout => 30, keep_alive => 1)
        ->default_ns($NS)
        ->on_action(sub { "$NS#$_[1]" })
        ->autotype(0);
    $soap->transport->default_header(
        Authorization => 'Basic ' . encode_base64("$user:$password", ''));
    return $soap;
}

sub p { return SOAP::Data->name(@_); }

# Calls operation; returns the SOAP::SOM of the answer, fault or not (a 401
# too). SOAP::Lite dies when no SOAP answer came ("500 Can't connect ...").
sub call {
    my ($soap, $operation, @params) = @_;
    return $soap->call($operation => @params);
}

# Calls operation; an answer that is a fault ends the run.
sub call_ok {
    my ($soap, $operation, @params) = @_;
    my $som = call($soap, $operation, @params);
    if ($som->fault) {
        fatal($current_step, "unexpected fault in $operation: " . $som->faultcode . ' ' .
              (fault_code($som) // '') . ': ' . $som->faultstring);
    }
    return $som;
}

# The stable code of a KisekaeFault detail, or undef.
sub fault_code {
    my ($som) = @_;
    my $detail = $som->faultdetail;
    return ref $detail eq 'HASH' && ref $detail->{KisekaeFault} eq 'HASH'
        ? $detail->{KisekaeFault}{code} : undef;
}

# (width, height) from a PNG's IHDR, or () if data is no PNG.
sub png_size {
    my ($data) = @_;
    return () if length($data) < 24 || substr($data, 0, 8) ne "\x89PNG\r\n\x1a\n" ||
                 substr($data, 12, 4) ne 'IHDR';
    return unpack('NN', substr($data, 16, 8));
}

sub same_set {
    my ($got, $want) = @_;
    return join(',', sort { $a <=> $b } @$got) eq join(',', sort { $a <=> $b } @$want);
}

sub ids { return '[' . join(', ', @_) . ']'; }

my $url = env('KISEKAE_API_URL');
my $tag = env('KISEKAE_INTEROP_TAG', 'manual');
my $run = $ENV{KISEKAE_INTEROP_RUN} || time() . ($$ % 1000);
my $layers_dir = env('KISEKAE_INTEROP_LAYERS');
my @canvas = split /x/, env('KISEKAE_CANVAS', '240x320');
my $wsdl_url = "$url?wsdl";

my $site = client($url, env('KISEKAE_SITE_USER'), env('KISEKAE_SITE_PASSWORD'));
my $admin = client($url, env('KISEKAE_ADMIN_USER'), env('KISEKAE_ADMIN_PASSWORD'));

# ---- wsdl: the operations of its portType
begin('wsdl');
my $wsdl_response = $site->transport->get($wsdl_url);
fatal($current_step, "$wsdl_url: " . $wsdl_response->status_line) unless $wsdl_response->is_success;
my ($port_type) = $wsdl_response->decoded_content =~ m{<portType\b.*?</portType>}s
    ? ($&) : ('');
my %operations = map { $_ => 1 } $port_type =~ /<operation name="(\w+)"/g;
fatal($current_step, "$wsdl_url: no operations in its portType") unless %operations;
ok('wsdl', "$wsdl_url: " . scalar(keys %operations) . ' operations');

eval {
    scenario();
    1;
} or fatal($current_step, "$@");
if ($failures) {
    print "$LANG: FAILED ($failures)\n";
    exit 1;
}
print "$LANG: passed\n";

sub scenario {
    # ---- catalog: a category of ours and two items in it, made once per
    # language and transport (a run against a reused stack finds them)
    begin('catalog');
    my $category_name = "interop-$LANG-$tag";
    my $som = call_ok($site, ListCategories => p(name => $category_name));
    my $category = $som->valueof('//ListCategoriesResponse/category');
    my %item_ids;
    if ($category) {
        $som = call_ok($site, ListItems => p(categoryId => $category->{id}));
        # valueof in list context: every <item>, whether there is one or more
        $item_ids{$_->{name}} = $_->{id} for $som->valueof('//ListItemsResponse/item');
    } else {
        $som = call_ok($admin, RegisterCategory => p(name => $category_name), p(zOrder => 650),
                       p(exclusive => 'false'), p(required => 'false'));
        $category = $som->valueof('//RegisterCategoryResponse/category');
    }
    for my $key ('a', 'b') {
        my $name = "$category_name item $key";
        next if $item_ids{$name};
        my $file = "$layers_dir/layer-$key.png";
        open my $fh, '<:raw', $file or die "$file: $!\n";
        my $png = do { local $/; <$fh> };
        close $fh;
        # type base64Binary: SOAP::Lite encodes the bytes
        $som = call_ok($admin, RegisterItem => p(categoryId => $category->{id}), p(name => $name),
                       p(price => 0),
                       p(layer => \SOAP::Data->value(p(png => $png)->type('base64Binary'))));
        $item_ids{$name} = $som->valueof('//RegisterItemResponse/item/id');
    }
    my $item_a = $item_ids{"$category_name item a"};
    my $item_b = $item_ids{"$category_name item b"};
    ok('catalog', "category $category_name (id $category->{id}), items $item_a and $item_b");

    # ---- CreateAvatar: a member of this language and run
    begin('CreateAvatar');
    my $user_id = "interop-$LANG-$tag-$run";
    $som = call_ok($site, CreateAvatar => p(userId => $user_id));
    my $avatar = $som->valueof('//CreateAvatarResponse/avatar');
    # the default items of required categories; a single <wornItemId> is a
    # scalar in $avatar, so read the list with valueof in list context
    my @base = $som->valueof('//CreateAvatarResponse/avatar/wornItemId');
    check($avatar->{version} == 1, 'CreateAvatar',
          "$user_id version $avatar->{version} on $avatar->{imageServer}, wearing " . ids(@base));

    # ---- fault: wearing an item not owned yet
    begin('fault');
    $som = call($site, ChangeOutfit => p(userId => $user_id), p(wear => $item_a));
    if ($som->fault) {
        my $code = fault_code($som);
        check(defined $code && $code eq 'NotOwned' && $som->faultcode =~ /:Client$/, 'fault',
              "ChangeOutfit wearing item $item_a not owned: faultcode " . $som->faultcode .
              ', detail code ' . ($code // '(none)') . ' (' . $som->faultstring . ')');
    } else {
        check(0, 'fault', 'ChangeOutfit wearing an item not owned succeeded');
    }

    # ---- GrantItem
    begin('GrantItem');
    for my $item_id ($item_a, $item_b) {
        $som = call_ok($site, GrantItem => p(userId => $user_id), p(itemId => $item_id));
        my $granted = $som->valueof('//GrantItemResponse');
        check($granted->{itemId} == $item_id && $granted->{alreadyOwned} eq 'false', 'GrantItem',
              "item $granted->{itemId}, alreadyOwned $granted->{alreadyOwned}");
    }

    # ---- ChangeOutfit: one <wear>, then two (a list is the element repeated)
    begin('ChangeOutfit');
    $som = call_ok($site, ChangeOutfit => p(userId => $user_id), p(wear => $item_a));
    $avatar = $som->valueof('//ChangeOutfitResponse/avatar');
    my @worn = $som->valueof('//ChangeOutfitResponse/avatar/wornItemId');
    check($avatar->{version} == 2 && same_set(\@worn, [@base, $item_a]), 'ChangeOutfit [a]',
          "version $avatar->{version}, wearing " . ids(@worn));
    $som = call_ok($site, ChangeOutfit => p(userId => $user_id), p(wear => $item_a),
                   p(wear => $item_b));
    $avatar = $som->valueof('//ChangeOutfitResponse/avatar');
    @worn = $som->valueof('//ChangeOutfitResponse/avatar/wornItemId');
    check($avatar->{version} == 3 && same_set(\@worn, [@base, $item_a, $item_b]),
          'ChangeOutfit [a,b]', "version $avatar->{version}, wearing " . ids(@worn));
    my $changed_url = $avatar->{url};

    # ---- GetAvatar: the version the last change returned (the fault changed nothing)
    begin('GetAvatar');
    $som = call_ok($site, GetAvatar => p(userId => $user_id), p(minVersion => 3));
    $avatar = $som->valueof('//GetAvatarResponse/avatar');
    check($avatar->{version} == 3 && $avatar->{url} eq $changed_url &&
          $avatar->{url} =~ m{/3\.png$}, 'GetAvatar', "version $avatar->{version}, $avatar->{url}");

    # ---- download: the avatar PNG from its URL
    begin('download');
    my $response = LWP::UserAgent->new(timeout => 30)->get($avatar->{url});
    my $png = $response->content;
    my @size = png_size($png);
    check($response->code == 200 && @size && $size[0] == $canvas[0] && $size[1] == $canvas[1],
          'download', 'HTTP ' . $response->code . ', ' . length($png) . ' bytes, PNG ' .
          (@size ? "$size[0]x$size[1]" : 'no') . " (canvas $canvas[0]x$canvas[1])");

    # ---- PreviewAvatar: the outfit without b, as a PNG; nothing saved. The
    # PNG comes as base64 text (no xsi:type tells SOAP::Lite to decode it).
    my $preview = sub {
        my $som = call_ok($site, PreviewAvatar => p(userId => $user_id), p(remove => $item_b));
        my $png = decode_base64($som->valueof('//PreviewAvatarResponse/png'));
        my @size = png_size($png);
        my @worn = $som->valueof('//PreviewAvatarResponse/wornItemId');
        $som = call_ok($site, GetAvatar => p(userId => $user_id), p(minVersion => 3));
        my $still = $som->valueof('//GetAvatarResponse/avatar/version');
        check(@size && $size[0] == $canvas[0] && $size[1] == $canvas[1] &&
              same_set(\@worn, [@base, $item_a]) && $still == 3, 'PreviewAvatar',
              'PNG ' . (@size ? "$size[0]x$size[1]" : 'no') . ', wearing ' . ids(@worn) .
              ", the avatar still at version $still");
    };

    # ---- CreateAlbumPhoto: on a scene of ours (layer a as its background, one
    # slot), then the JPEG from its URL
    my $album_photo = sub {
        my $scene_name = "interop-$LANG-$tag";
        # no parameters: SOAP::Lite would send <ListScenes xsi:nil="true"/>, which
        # the strict server refuses; an empty raw body sends <ListScenes></ListScenes>
        my $som = call_ok($site, ListScenes => SOAP::Data->type(xml => ''));
        my ($scene) = grep { $_->{name} eq $scene_name } $som->valueof('//ListScenesResponse/scene');
        if (!$scene) {
            my $file = "$layers_dir/layer-a.png";
            open my $fh, '<:raw', $file or die "$file: $!\n";
            my $png = do { local $/; <$fh> };
            close $fh;
            $som = call_ok($admin, RegisterScene => p(name => $scene_name),
                           p(png => $png)->type('base64Binary'),
                           p(slot => \SOAP::Data->value(p(x => 0), p(y => 0))));
            $scene = $som->valueof('//RegisterSceneResponse/scene');
        }
        $som = call_ok($site, CreateAlbumPhoto => p(userId => $user_id),
                       p(sceneId => $scene->{id}), p(caption => "interop $LANG"));
        my $photo = $som->valueof('//CreateAlbumPhotoResponse/photo');
        my @members = $som->valueof('//CreateAlbumPhotoResponse/photo/member/userId');
        my $response = LWP::UserAgent->new(timeout => 30)->get($photo->{url});
        my $jpeg = $response->content;
        check($photo->{url} =~ m{/\Q$photo->{id}\E\.jpg$} && "@members" eq $user_id &&
              $response->code == 200 && substr($jpeg, 0, 3) eq "\xff\xd8\xff", 'CreateAlbumPhoto',
              "scene $scene->{id}, photo $photo->{id}: HTTP " . $response->code . ', ' .
              length($jpeg) . ' bytes of JPEG');
    };

    # ---- operations added lately: each runs when the WSDL has it
    my %steps = (PreviewAvatar => $preview, CreateAlbumPhoto => $album_photo);
    for my $operation ('PreviewAvatar', 'CreateAlbumPhoto') {
        begin($operation);
        if (!$operations{$operation}) {
            print "skip: $operation not in WSDL\n";
        } elsif (!$steps{$operation}) {
            check(0, $operation, 'the WSDL has it but this client has no step for it yet');
        } else {
            $steps{$operation}->();
        }
    }
}
