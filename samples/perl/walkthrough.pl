#!/usr/bin/perl
# walkthrough.pl: every site operation of the kisekae API through
# Kisekae::Client (lib/ beside this file), against a live stack, checking
# each answer.
#
#   KISEKAE_API_URLS="http://api1/ http://api2/" KISEKAE_SITE_USER=site \
#   KISEKAE_SITE_PASSWORD=... [KISEKAE_SAMPLE_RUN=tag] perl walkthrough.pl
#
# It picks two published items (not a default item, not of a required
# category) and a scene from the stack's catalog, creates a member and a
# friend (walk-pl-<run>-a and -b), dresses, previews, photographs and
# finally deletes them. It also colours a tintable item (the sample
# catalog's hair) and checks a signed webhook payload with
# Kisekae::Webhook::verify_signature (good, tampered, stale). One line per
# operation; the last line is
# "walkthrough perl: passed (N operations)" and the exit status 0, or
# "FAIL <operation>: <why>" and exit status 1.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use LWP::UserAgent;
use Scalar::Util qw(blessed);

use Kisekae::Client;
use Kisekae::Webhook qw(verify_signature);

$| = 1;

my $operations = 0;
my @members;                    # created, deleted at the end (or on failure)
my $kisekae;

sub ok {
    my ($operation, $text) = @_;
    $operations++;
    printf "ok   %-17s %s\n", $operation, $text;
}

sub fail {
    my ($operation, $why) = @_;
    print "FAIL $operation: $why\n";
    # leave nothing behind; errors here change nothing to the verdict
    eval { $kisekae->delete_avatar($_) } for @members;
    exit 1;
}

sub check {
    my ($cond, $operation, $text) = @_;
    $cond ? ok($operation, $text) : fail($operation, $text);
}

# Runs code; returns its result, or fails operation with the error.
sub try {
    my ($operation, $code) = @_;
    my @result = eval { $code->() };
    fail($operation, "$@") if $@;
    return wantarray ? @result : $result[0];
}

# Reads go to database replicas, which may be a moment behind the master:
# a read right after a write is repeated (at most 30 times, 0.1 s apart)
# until done->(result) is true; returns the last result.
sub eventually {
    my ($operation, $code, $done) = @_;
    my $result;
    for my $try (1 .. 30) {
        $result = try($operation, $code);
        last if $done->($result);
        select(undef, undef, undef, 0.1);
    }
    return $result;
}

# Runs code, which must throw a Kisekae::Error with code $want (again and
# again while it succeeds, as eventually does).
sub expect_fault {
    my ($operation, $want, $code) = @_;
    my $error;
    for my $try (1 .. 30) {
        last if !eval { $code->(); 1 } and $error = $@;
        select(undef, undef, undef, 0.1);
    }
    fail($operation, "succeeded; expected the fault $want") unless $error;
    fail($operation, "expected a Kisekae::Error $want, got: $error")
        unless blessed $error && $error->isa('Kisekae::Error') && $error->code eq $want;
    ok($operation, "fault $want: " . $error->message);
}

sub env {
    my ($name) = @_;
    my $value = $ENV{$name};
    if (!defined $value || $value eq '') {
        print STDERR "walkthrough.pl: $name is not set\n";
        exit 2;
    }
    return $value;
}

# (width, height) from a PNG's IHDR, or () if data is no PNG.
sub png_size {
    my ($data) = @_;
    return () if !defined $data || length($data) < 24 ||
                 substr($data, 0, 8) ne "\x89PNG\r\n\x1a\n" || substr($data, 12, 4) ne 'IHDR';
    return unpack('NN', substr($data, 16, 8));
}

sub has { my ($list, $id) = @_; return scalar grep { $_ == $id } @$list; }

sub is_list { return ref $_[0] eq 'ARRAY'; }

my @urls = split ' ', env('KISEKAE_API_URLS');
my $run = $ENV{KISEKAE_SAMPLE_RUN} || time() . '-' . $$;
my ($canvas_w, $canvas_h) = split /x/, ($ENV{KISEKAE_CANVAS} || '');
my $http = LWP::UserAgent->new(timeout => 30, keep_alive => 1);

$kisekae = Kisekae::Client->new(urls => \@urls, user => env('KISEKAE_SITE_USER'),
                                password => env('KISEKAE_SITE_PASSWORD'));
my $member = "walk-pl-$run-a";
my $friend = "walk-pl-$run-b";

# ---- the catalog: categories, items, one item, scenes
my $categories = try('ListCategories', sub { $kisekae->list_categories });
check(is_list($categories) && @$categories > 0, 'ListCategories',
      scalar(@$categories) . ' categories: ' . join(' ', map { $_->{name} } @$categories));
my $named = try('ListCategories', sub { $kisekae->list_categories(name => $categories->[0]{name}) });
check(is_list($named) && @$named == 1 && $named->[0]{id} == $categories->[0]{id}, 'ListCategories',
      "name \"$categories->[0]{name}\": a list of one, id $named->[0]{id}");

my $page = try('ListItems', sub { $kisekae->list_items(limit => 100) });
my $items = $page->{item};
check(is_list($items) && @$items > 0 && $page->{total} >= @$items &&
      !grep({ $_->{status} ne 'published' } @$items), 'ListItems',
      scalar(@$items) . " of $page->{total} published items");
# two items a member may put on and take off: not a default item, not of a
# required category, of two different categories
my %required = map { $_->{id} => 1 } grep { $_->{required} } @$categories;
my %defaults = map { $_->{defaultItemId} => 1 } grep { defined $_->{defaultItemId} } @$categories;
my @free = grep { !$required{$_->{categoryId}} && !$defaults{$_->{id}} } @$items;
my $item_x = $free[0];
my ($item_y) = grep { $_->{categoryId} != $item_x->{categoryId} } @free if $item_x;
fail('ListItems', 'the catalog needs two optional items of two categories') unless $item_y;
my ($x, $y) = ($item_x->{id}, $item_y->{id});

my $item = try('GetItem', sub { $kisekae->get_item($x) });
check($item->{id} == $x && $item->{name} eq $item_x->{name} && is_list($item->{layer}) &&
      @{$item->{layer}} >= 1 && $item->{layer}[0]{width} > 0, 'GetItem',
      "item $x \"$item->{name}\", " . scalar(@{$item->{layer}}) . ' layer(s)');

my $scenes = try('ListScenes', sub { $kisekae->list_scenes });
fail('ListScenes', 'no scene in the catalog: an admin must register one (RegisterScene)')
    unless is_list($scenes) && @$scenes;
my ($scene) = (grep({ @{$_->{slot}} >= 2 } @$scenes), @$scenes);
ok('ListScenes', scalar(@$scenes) . " scene(s); using $scene->{id} \"$scene->{name}\" with " .
   scalar(@{$scene->{slot}}) . ' slot(s)');

# ---- members
my $avatar = try('CreateAvatar', sub { $kisekae->create_avatar($member) });
push @members, $member;
my @base = @{$avatar->{wornItemId}};
check($avatar->{version} == 1 && $avatar->{userId} eq $member && is_list($avatar->{wornItemId}),
      'CreateAvatar', "$member version 1 on $avatar->{imageServer}, wearing @base");
my $friend_avatar = try('CreateAvatar', sub { $kisekae->create_avatar($friend) });
push @members, $friend;
check($friend_avatar->{version} == 1, 'CreateAvatar', "$friend version 1");

$avatar = try('GetAvatar', sub { $kisekae->get_avatar($member, min_version => 1) });
check($avatar->{version} == 1 && $avatar->{url} =~ m{/1\.png$}, 'GetAvatar',
      "version $avatar->{version}, $avatar->{url}");

# ---- the outfit
expect_fault('ChangeOutfit', 'NotOwned', sub { $kisekae->change_outfit($member, wear => [$x]) });

my $granted = try('GrantItem', sub { $kisekae->grant_item($member, $x) });
check($granted->{itemId} == $x && !$granted->{alreadyOwned}, 'GrantItem', "item $x, alreadyOwned 0");
$granted = try('GrantItem', sub { $kisekae->grant_item($member, $x) });
check($granted->{alreadyOwned} == 1, 'GrantItem', "item $x again, alreadyOwned 1");
try('GrantItem', sub { $kisekae->grant_item($member, $y) });
ok('GrantItem', "item $y");

my $owned = eventually('ListMemberItems', sub { $kisekae->list_member_items($member) },
                       sub { has([map { $_->{itemId} } @{$_[0]{item}}], $y) });
my @owned_ids = map { $_->{itemId} } @{$owned->{item}};
my @worn_ids = map { $_->{itemId} } grep { $_->{worn} } @{$owned->{item}};
check($owned->{total} == @owned_ids && has(\@owned_ids, $x) && has(\@owned_ids, $y) &&
      !has(\@worn_ids, $x) && !has(\@worn_ids, $y), 'ListMemberItems',
      "total $owned->{total}: @owned_ids (the default items too), worn: @worn_ids");

$avatar = try('ChangeOutfit', sub { $kisekae->change_outfit($member, wear => [$x]) });
check($avatar->{version} == 2 && has($avatar->{wornItemId}, $x), 'ChangeOutfit',
      "version $avatar->{version}, wearing @{$avatar->{wornItemId}}");

$avatar = try('GetAvatar', sub { $kisekae->get_avatar($member, min_version => 2) });
my $response = $http->get($avatar->{url});
my @size = png_size($response->content);
$canvas_w ||= $size[0] // 0;
$canvas_h ||= $size[1] // 0;
check($avatar->{version} == 2 && $response->code == 200 && @size && $size[0] == $canvas_w &&
      $size[1] == $canvas_h, 'GetAvatar',
      "version 2; $avatar->{url}: HTTP " . $response->code . ', PNG ' .
      (@size ? "$size[0]x$size[1]" : 'no'));

my $missing = "walk-pl-$run-nobody";
my $batch = eventually('GetAvatars', sub { $kisekae->get_avatars([$member, $friend, $missing]) },
                       sub { @{$_[0]{avatar}} == 2 && $_[0]{avatar}[0]{version} == 2 });
check(@{$batch->{avatar}} == 2 && $batch->{avatar}[0]{userId} eq $member &&
      $batch->{avatar}[1]{userId} eq $friend && is_list($batch->{missingUserId}) &&
      "@{$batch->{missingUserId}}" eq $missing, 'GetAvatars',
      "2 avatars in the order asked; missingUserId, a list of one: [@{$batch->{missingUserId}}]");

my $preview = eventually('PreviewAvatar', sub { $kisekae->preview_avatar($member, wear => [$y]) },
                         sub { has($_[0]{wornItemId}, $x) });
@size = png_size($preview->{png});
my $still = try('PreviewAvatar', sub { $kisekae->get_avatar($member, min_version => 2)->{version} });
check(@size && $size[0] == $canvas_w && $size[1] == $canvas_h && has($preview->{wornItemId}, $x) &&
      has($preview->{wornItemId}, $y) && $still == 2, 'PreviewAvatar',
      'PNG ' . (@size ? "$size[0]x$size[1]" : 'no') . ' (' . length($preview->{png}) .
      " bytes), wearing @{$preview->{wornItemId}}; the avatar still at version $still");

my $revoked = try('RevokeItem', sub { $kisekae->revoke_item($member, $x) });
check($revoked->{wasOwned} && $revoked->{wasWorn} && $revoked->{avatar}{version} == 3 &&
      !has($revoked->{avatar}{wornItemId}, $x), 'RevokeItem',
      "item $x was worn; version 3, wearing @{$revoked->{avatar}{wornItemId}}");

$avatar = try('RegenerateAvatar', sub { $kisekae->regenerate_avatar($member) });
check($avatar->{version} == 4 && $avatar->{url} =~ m{/4\.png$}, 'RegenerateAvatar',
      "version $avatar->{version}");

# ---- the album
my @friends = @{$scene->{slot}} >= 2 ? ($friend) : ();
my $photo = try('CreateAlbumPhoto', sub {
    $kisekae->create_album_photo($member, $scene->{id}, friends => \@friends,
                                 caption => "walkthrough perl $run") });
$response = $http->get($photo->{url});
my @stood = map { "$_->{slot}:$_->{userId}" } @{$photo->{member}};
check($photo->{sceneId} == $scene->{id} && $stood[0] eq "0:$member" &&
      @stood == 1 + @friends && $response->code == 200 &&
      substr($response->content, 0, 3) eq "\xff\xd8\xff", 'CreateAlbumPhoto',
      "photo $photo->{id} with @stood; $photo->{url}: HTTP " . $response->code . ', ' .
      length($response->content) . ' bytes of JPEG');

my $album = eventually('ListAlbumPhotos', sub { $kisekae->list_album_photos($member) },
                       sub { $_[0]{total} == 1 });
check($album->{total} == 1 && is_list($album->{photo}) && @{$album->{photo}} == 1 &&
      $album->{photo}[0]{id} == $photo->{id}, 'ListAlbumPhotos',
      "total 1, a list of one: photo $album->{photo}[0]{id}");

my $deleted = try('DeleteAlbumPhoto', sub { $kisekae->delete_album_photo($member, $photo->{id}) });
$album = eventually('ListAlbumPhotos', sub { $kisekae->list_album_photos($member) },
                    sub { $_[0]{total} == 0 });
check($deleted->{photoId} == $photo->{id} && $album->{total} == 0 && is_list($album->{photo}) &&
      !@{$album->{photo}}, 'DeleteAlbumPhoto', "photo $photo->{id}; the album is an empty list");

# ---- tints: a worn item's tintable layers in any colour
my ($hair) = grep { @{$_->{layer}} && !grep({ !$_->{tintable} } @{$_->{layer}}) } @$items;
fail('ListItems', "the catalog has no tintable item (the sample catalog's hair is)") unless $hair;
my $h = $hair->{id};
try('GrantItem', sub { $kisekae->grant_item($friend, $h) });
my $tinted = try('ChangeOutfit', sub {
    $kisekae->change_outfit($friend, wear => [$h], colours => {$h => '#3366cc'}) });
my $tints = Kisekae::Client->colours($tinted);
check(has($tinted->{wornItemId}, $h) && is_list($tinted->{wornColour}) &&
      keys(%$tints) == 1 && ($tints->{$h} // '') eq '#3366CC', 'ChangeOutfit',
      "item $h \"$hair->{name}\" in #3366cc: version $tinted->{version}, tint " .
      ($tints->{$h} // 'none') . ", $tinted->{url}, animUrl " .
      ($tinted->{animUrl} // '(none: no animated item worn)'));
my $again = try('GetAvatar', sub {
    $kisekae->get_avatar($friend, min_version => $tinted->{version}) });
check((Kisekae::Client->colours($again)->{$h} // '') eq '#3366CC', 'GetAvatar',
      "version $again->{version}: tint " . (Kisekae::Client->colours($again)->{$h} // 'none'));
$response = $http->get($tinted->{url});
@size = png_size($response->content);
check($response->code == 200 && @size && $size[0] == $canvas_w && $size[1] == $canvas_h,
      'download', 'the tinted avatar: HTTP ' . $response->code . ', ' .
      length($response->content) . ' bytes of PNG');
$preview = try('PreviewAvatar', sub {
    $kisekae->preview_avatar($friend, colours => {$h => '#CC3333'}) });
@size = png_size($preview->{png});
check(@size && (Kisekae::Client->colours($preview)->{$h} // '') eq '#CC3333', 'PreviewAvatar',
      "item $h in #CC3333: PNG " . length($preview->{png}) . ' bytes, tint ' .
      (Kisekae::Client->colours($preview)->{$h} // 'none'));
my $refused = eval { $kisekae->change_outfit($friend, colours => {$h => 'blue'}); 0 } // $@;
check(blessed $refused && $refused->code eq 'InvalidArgument' && !defined $refused->faultcode,
      'ChangeOutfit', 'colour "blue": refused by the client (InvalidArgument, not sent: ' .
      (blessed $refused ? $refused->message : "no error: $refused") . ')');

# ---- webhooks: a site checks X-Kisekae-Signature before it trusts a body
my $secret = 'whsec-sample-0123456789abcdef';
my $body = '{"id":"42","type":"avatar.changed","created":"2026-01-01T00:00:00Z",'
         . '"data":{"userId":"alice","version":3}}';
my $signed = 1767225600;
my $header = "t=$signed,v1=8ec7ab68efae06b67c561de35c7c360266a5d4c49646c37f96289724d4ca7e53";
check(verify_signature($body, $header, $secret, now => $signed + 60), 'webhook',
      "a signed sample payload, a minute after t=$signed: accepted");
(my $tampered = $body) =~ s/"version":3/"version":4/;
check(!verify_signature($tampered, $header, $secret, now => $signed + 60), 'webhook',
      'a tampered body ("version":4): refused');
check(!verify_signature($body, $header, 'whsec-another-0123456789abcdef', now => $signed + 60),
      'webhook', 'another secret: refused');
check(!verify_signature($body, $header, $secret), 'webhook',
      "the same payload now, long after t=$signed: refused (older than " .
      "$Kisekae::Webhook::TOLERANCE s)");

# ---- faults and the end
expect_fault('GetAvatar', 'NotFound', sub { $kisekae->get_avatar($missing) });
for my $user_id ($friend, $member) {
    my $gone = try('DeleteAvatar', sub { $kisekae->delete_avatar($user_id) });
    check($gone->{userId} eq $user_id, 'DeleteAvatar',
          "$user_id, $gone->{albumPhotosDeleted} album photo(s) deleted");
}
@members = ();
expect_fault('GetAvatar', 'NotFound', sub { $kisekae->get_avatar($member) });

print "walkthrough perl: passed ($operations operations)\n";
exit 0;
