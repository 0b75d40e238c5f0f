/* kisekae.h: the SOAP service definition, the source of truth of the API.
 *
 * soapcpp2 generates the server skeleton, the client stubs and wsdl/Kisekae.wsdl
 * from this file (see CMakeLists.txt). The WSDL is checked in; the test
 * `wsdl_drift` fails when it no longer matches what this header generates, so
 * after editing this file run `cmake --build build --target wsdl` and commit
 * the new wsdl/Kisekae.wsdl with it.
 *
 * Conventions for client authors:
 * - SOAP 1.1, document/literal wrapped, elements qualified in urn:kisekae:v1.
 * - An absent list element means an empty list.
 * - Every fault carries <detail><ks:KisekaeFault><code/><message/></...>; the
 *   code is one of the stable codes listed at struct ks__KisekaeFault. The
 *   faultcode is SOAP-ENV:Client for caller errors, SOAP-ENV:Server otherwise.
 * - An operation marked `// @resendable` on its declaration may be sent twice
 *   without harm: a read, or a write whose second sending ends as one (a
 *   ChangeOutfit that changes nothing keeps the version; modes, weights,
 *   registrations and heartbeats are set, not added). A balancer sends it to
 *   a second API server after the first failed with the request perhaps
 *   received; any other write caught that way fails with its outcome unknown.
 *   The build lists the marked operations (wsdl/resendable.cmake).
 */

//gsoap ks service name:         Kisekae
//gsoap ks service namespace:    urn:kisekae:v1
//gsoap ks service location:     http://127.0.0.1:17010/
//gsoap ks service style:        document
//gsoap ks service encoding:     literal
//gsoap ks schema namespace:     urn:kisekae:v1
//gsoap ks schema elementForm:   qualified
//gsoap ks schema attributeForm: unqualified

//gsoap ks service method-action: RegisterCategory urn:kisekae:v1#RegisterCategory
//gsoap ks service method-fault:  RegisterCategory ks__KisekaeFault
//gsoap ks service method-action: RegisterItem urn:kisekae:v1#RegisterItem
//gsoap ks service method-fault:  RegisterItem ks__KisekaeFault
//gsoap ks service method-action: ListCategories urn:kisekae:v1#ListCategories
//gsoap ks service method-fault:  ListCategories ks__KisekaeFault
//gsoap ks service method-action: ListItems urn:kisekae:v1#ListItems
//gsoap ks service method-fault:  ListItems ks__KisekaeFault
//gsoap ks service method-action: GetAvatars urn:kisekae:v1#GetAvatars
//gsoap ks service method-fault:  GetAvatars ks__KisekaeFault
//gsoap ks service method-action: DeleteAvatar urn:kisekae:v1#DeleteAvatar
//gsoap ks service method-fault:  DeleteAvatar ks__KisekaeFault
//gsoap ks service method-action: PreviewAvatar urn:kisekae:v1#PreviewAvatar
//gsoap ks service method-fault:  PreviewAvatar ks__KisekaeFault
//gsoap ks service method-action: RegenerateAvatar urn:kisekae:v1#RegenerateAvatar
//gsoap ks service method-fault:  RegenerateAvatar ks__KisekaeFault
//gsoap ks service method-action: RevokeItem urn:kisekae:v1#RevokeItem
//gsoap ks service method-fault:  RevokeItem ks__KisekaeFault
//gsoap ks service method-action: ListMemberItems urn:kisekae:v1#ListMemberItems
//gsoap ks service method-fault:  ListMemberItems ks__KisekaeFault
//gsoap ks service method-action: GetItem urn:kisekae:v1#GetItem
//gsoap ks service method-fault:  GetItem ks__KisekaeFault
//gsoap ks service method-action: ListScenes urn:kisekae:v1#ListScenes
//gsoap ks service method-fault:  ListScenes ks__KisekaeFault
//gsoap ks service method-action: CreateAlbumPhoto urn:kisekae:v1#CreateAlbumPhoto
//gsoap ks service method-fault:  CreateAlbumPhoto ks__KisekaeFault
//gsoap ks service method-action: ListAlbumPhotos urn:kisekae:v1#ListAlbumPhotos
//gsoap ks service method-fault:  ListAlbumPhotos ks__KisekaeFault
//gsoap ks service method-action: DeleteAlbumPhoto urn:kisekae:v1#DeleteAlbumPhoto
//gsoap ks service method-fault:  DeleteAlbumPhoto ks__KisekaeFault
//gsoap ks service method-action: UpdateItem urn:kisekae:v1#UpdateItem
//gsoap ks service method-fault:  UpdateItem ks__KisekaeFault
//gsoap ks service method-action: RetireItem urn:kisekae:v1#RetireItem
//gsoap ks service method-fault:  RetireItem ks__KisekaeFault
//gsoap ks service method-action: RegisterImageServer urn:kisekae:v1#RegisterImageServer
//gsoap ks service method-fault:  RegisterImageServer ks__KisekaeFault
//gsoap ks service method-action: Heartbeat urn:kisekae:v1#Heartbeat
//gsoap ks service method-fault:  Heartbeat ks__KisekaeFault
//gsoap ks service method-action: GetCatalogManifest urn:kisekae:v1#GetCatalogManifest
//gsoap ks service method-fault:  GetCatalogManifest ks__KisekaeFault
//gsoap ks service method-action: GetItemLayer urn:kisekae:v1#GetItemLayer
//gsoap ks service method-fault:  GetItemLayer ks__KisekaeFault
//gsoap ks service method-action: RegisterScene urn:kisekae:v1#RegisterScene
//gsoap ks service method-fault:  RegisterScene ks__KisekaeFault
//gsoap ks service method-action: ListImageServers urn:kisekae:v1#ListImageServers
//gsoap ks service method-fault:  ListImageServers ks__KisekaeFault
//gsoap ks service method-action: SetImageServerMode urn:kisekae:v1#SetImageServerMode
//gsoap ks service method-fault:  SetImageServerMode ks__KisekaeFault
//gsoap ks service method-action: GetImageRecipe urn:kisekae:v1#GetImageRecipe
//gsoap ks service method-fault:  GetImageRecipe ks__KisekaeFault
//gsoap ks service method-action: GetSceneBackground urn:kisekae:v1#GetSceneBackground
//gsoap ks service method-fault:  GetSceneBackground ks__KisekaeFault
//gsoap ks service method-action: MoveAvatars urn:kisekae:v1#MoveAvatars
//gsoap ks service method-fault:  MoveAvatars ks__KisekaeFault
//gsoap ks service method-action: SetImageServerWeight urn:kisekae:v1#SetImageServerWeight
//gsoap ks service method-fault:  SetImageServerWeight ks__KisekaeFault
//gsoap ks service method-action: CreateAvatar urn:kisekae:v1#CreateAvatar
//gsoap ks service method-fault:  CreateAvatar ks__KisekaeFault
//gsoap ks service method-action: GetAvatar urn:kisekae:v1#GetAvatar
//gsoap ks service method-fault:  GetAvatar ks__KisekaeFault
//gsoap ks service method-action: GrantItem urn:kisekae:v1#GrantItem
//gsoap ks service method-fault:  GrantItem ks__KisekaeFault
//gsoap ks service method-action: ChangeOutfit urn:kisekae:v1#ChangeOutfit
//gsoap ks service method-fault:  ChangeOutfit ks__KisekaeFault


enum xsd__boolean { false_, true_ };

struct xsd__base64Binary {
    unsigned char *__ptr;
    int __size;
};

/* The typed detail of every fault. code is one of: NotFound, InvalidArgument,
 * NotOwned, Conflict, Unauthorized, Forbidden, TooLarge,
 * ImageServerUnavailable, DatabaseUnavailable, Internal. */
struct ks__KisekaeFault {
    char *code 1;
    char *message 1;
};

struct SOAP_ENV__Detail {
    struct ks__KisekaeFault *ks__KisekaeFault;
    int __type;
    void *fault;
    char *__any;
};

/* A category of items: body, hair, top... Items of an exclusive category are
 * worn one at a time; a required category must always have an item worn. */
struct ks__Category {
    int id 1;
    char *name 1;
    int zOrder 1;                       /* default z-order of its layers */
    enum xsd__boolean exclusive 1;
    enum xsd__boolean required 1;
    int *defaultItemId 0;               /* worn by new avatars (required categories) */
};

/* One layer of an item as uploaded: a PNG the size of the avatar canvas. The
 * server trims it to its bounding box. zOrder defaults to the category's. */
struct ks__LayerInput {
    struct xsd__base64Binary png 1;
    int *zOrder 0;
    enum xsd__boolean *tintable 0;      /* tints: recoloured when worn with a colour (default false) */
    char *role 0;                       /* hide rules: 0..16 of [a-z0-9_-], e.g. front (default "") */
};

/* One stored layer: where it sits on the canvas and its canonical PNG's hash. */
struct ks__Layer {
    int layerNo 1;
    int zOrder 1;
    int x 1;
    int y 1;
    int width 1;
    int height 1;
    char *sha256 1;
    enum xsd__boolean tintable 1;       /* tints */
    char *role 1;                       /* hide rules: "" for none */
};

struct ks__Item {
    int id 1;
    int categoryId 1;
    char *name 1;
    char *status 1;                     /* draft | published | retired */
    int price 1;
    int __sizelayer 0;
    struct ks__Layer *layer 0;
    time_t *availableFrom 0;            /* time-limited items: the window it can be */
    time_t *availableUntil 0;           /* granted and worn in (absent: open that side) */
    int __sizehide 0;
    struct ks__HideRule *hide 0;        /* hide rules: what it hides while worn */
};

/* A member's avatar. url (the full image) and thumbUrl (the bust-up thumbnail)
 * carry the version, so a cached image is never stale. */
struct ks__Avatar {
    char *userId 1;
    int version 1;
    char *imageServer 1;
    char *url 1;
    char *thumbUrl 1;                   /* the bust-up thumbnail of the same version */
    int __sizewornItemId 0;
    int *wornItemId 0;
    int __sizewornColour 0;
    struct ks__ItemColour *wornColour 0;   /* tints: the worn items worn with a colour, by itemId */
};

struct ks__RegisterCategoryResponse { struct ks__Category *category 1; };
struct ks__RegisterItemResponse     { struct ks__Item *item 1; };
struct ks__ListCategoriesResponse   { int __sizecategory 0; struct ks__Category *category 0; };
struct ks__ListItemsResponse        { int total 1; int __sizeitem 0; struct ks__Item *item 0; };
struct ks__CreateAvatarResponse     { struct ks__Avatar *avatar 1; };
struct ks__GetAvatarResponse        { struct ks__Avatar *avatar 1; };
struct ks__GrantItemResponse        { int itemId 1; enum xsd__boolean alreadyOwned 1; };
struct ks__ChangeOutfitResponse     { struct ks__Avatar *avatar 1; };

/* An item a member owns. */
struct ks__MemberItem {
    int itemId 1;
    int categoryId 1;
    char *name 1;
    char *status 1;                     /* a retired item stays owned (and worn) */
    enum xsd__boolean worn 1;
    time_t grantedAt 1;
};

/* Where an avatar (the whole canvas) is placed on a scene: its top-left corner. */
struct ks__SceneSlot {
    int x 1;
    int y 1;
};

/* An album background with the slots avatars stand in; slot 0 is the
 * member's own, the others are for friends. */
struct ks__Scene {
    int id 1;
    char *name 1;
    int width 1;
    int height 1;
    char *sha256 1;
    int __sizeslot 0;
    struct ks__SceneSlot *slot 0;
};

/* Who stood in a slot of an album photo, and the version of their avatar then. */
struct ks__AlbumMember {
    int slot 1;
    char *userId 1;
    int avatarVersion 1;
};

/* An album photo: a JPEG on the member's image server. */
struct ks__AlbumPhoto {
    int id 1;
    char *userId 1;
    int sceneId 1;
    char *caption 0;
    char *url 1;
    time_t createdAt 1;
    int __sizemember 0;
    struct ks__AlbumMember *member 0;
};

/* An image server of the cluster. mode: active (takes new members),
 * draining (keeps its members, takes no new ones) or down (skipped; its
 * members' images cannot change until it is back or they are moved). */
struct ks__ImageServer {
    int id 1;
    char *name 1;
    char *internalUrl 1;
    char *publicUrl 1;
    int weight 1;
    char *mode 1;
    int memberCount 1;
    time_t *lastHeartbeat 0;
};

struct ks__GetAvatarsResponse {
    int __sizeavatar 0;
    struct ks__Avatar *avatar 0;         /* in the order asked, each once */
    int __sizemissingUserId 0;
    char **missingUserId 0;             /* ids that name no member */
};
struct ks__DeleteAvatarResponse     { char *userId 1; int albumPhotosDeleted 1; };
struct ks__PreviewAvatarResponse {
    struct xsd__base64Binary png 1;
    int __sizewornItemId 0;
    int *wornItemId 0;                  /* what the preview wears */
    int __sizewornColour 0;
    struct ks__ItemColour *wornColour 0;   /* tints: with which colours, by itemId */
};
struct ks__RegenerateAvatarResponse { struct ks__Avatar *avatar 1; };
struct ks__RevokeItemResponse {
    int itemId 1;
    enum xsd__boolean wasOwned 1;
    enum xsd__boolean wasWorn 1;
    struct ks__Avatar *avatar 1;
};
struct ks__ListMemberItemsResponse  { int total 1; int __sizeitem 0; struct ks__MemberItem *item 0; };
struct ks__GetItemResponse          { struct ks__Item *item 1; };
struct ks__ListScenesResponse       { int __sizescene 0; struct ks__Scene *scene 0; };
struct ks__CreateAlbumPhotoResponse { struct ks__AlbumPhoto *photo 1; };
struct ks__ListAlbumPhotosResponse  { int total 1; int __sizephoto 0; struct ks__AlbumPhoto *photo 0; };
struct ks__DeleteAlbumPhotoResponse { int photoId 1; };
struct ks__UpdateItemResponse       { struct ks__Item *item 1; int avatarsQueued 1; };
struct ks__RetireItemResponse       { struct ks__Item *item 1; int wornBy 1; };
struct ks__RegisterSceneResponse    { struct ks__Scene *scene 1; };
struct ks__ListImageServersResponse { int __sizeserver 0; struct ks__ImageServer *server 0; };
struct ks__SetImageServerModeResponse { struct ks__ImageServer *server 1; };

/* admin: register a category of items. */
int ks__RegisterCategory(
    char *name 1,
    int zOrder 1,
    enum xsd__boolean exclusive 1,
    enum xsd__boolean required 1,
    struct ks__RegisterCategoryResponse *response);

/* admin: register an item with its layers (1 to 8 full-canvas PNGs).
 * status: draft | published (default published). makeDefault makes it the
 * default item of its category. availableFrom/availableUntil make it a
 * time-limited item (see "Time-limited items" at the end). hide: 0..16 hide
 * rules (their categories must exist: NotFound). */
int ks__RegisterItem(
    int categoryId 1,
    char *name 1,
    int price 1,
    char *status 0,
    enum xsd__boolean *makeDefault 0,
    int __sizelayer 1,
    struct ks__LayerInput *layer 1,
    time_t *availableFrom 0,
    time_t *availableUntil 0,
    int __sizehide 0,
    struct ks__HideRule *hide 0,
    struct ks__RegisterItemResponse *response);

/* site: every category, or with name only the category of that name. */
int ks__ListCategories(  // @resendable
    char *name 0,
    struct ks__ListCategoriesResponse *response);

/* site: published items, optionally of one category, a page at a time
 * (limit 1 to 100, default 50). total counts every match. */
int ks__ListItems(  // @resendable
    int *categoryId 0,
    int *offset 0,
    int *limit 0,
    struct ks__ListItemsResponse *response);

/* site: the avatars of up to 100 members in one call. Unknown ids are listed
 * in missingUserId rather than failing the call. */
int ks__GetAvatars(  // @resendable
    int __sizeuserId 1,
    char **userId 1,
    struct ks__GetAvatarsResponse *response);

/* site: delete a member: avatar, inventory, outfit, album photos and their
 * images. Photos the member appears in on friends' albums stay (they are the
 * friends'). A later CreateAvatar of the same id starts above the last version,
 * so no cached URL is ever reused. */
int ks__DeleteAvatar(
    char *userId 1,
    struct ks__DeleteAvatarResponse *response);

/* site: try-on. The member's outfit with wear put on and remove taken off
 * (the category rules apply; the items need not be owned) and colour
 * applied (as ChangeOutfit takes it), composed and returned as a PNG.
 * Nothing is saved. */
int ks__PreviewAvatar(  // @resendable
    char *userId 1,
    int __sizewear 0,
    int *wear 0,
    int __sizeremove 0,
    int *remove 0,
    int __sizecolour 0,
    struct ks__ItemColour *colour 0,
    struct ks__PreviewAvatarResponse *response);

/* site: compose the member's avatar again as a new version (e.g. after its
 * image was lost). */
int ks__RegenerateAvatar(
    char *userId 1,
    struct ks__RegenerateAvatarResponse *response);

/* site: take an item from a member. A worn item comes off and the avatar is
 * composed again; if it was the only item worn of a required category, that
 * category's default item is put on instead (Conflict when the item is that
 * default). Revoking an item the member does not own is not an error. */
int ks__RevokeItem(  // @resendable
    char *userId 1,
    int itemId 1,
    struct ks__RevokeItemResponse *response);

/* site: the items a member owns, optionally of one category, a page at a time
 * (limit 1 to 100, default 50), newest grant first. */
int ks__ListMemberItems(  // @resendable
    char *userId 1,
    int *categoryId 0,
    int *offset 0,
    int *limit 0,
    struct ks__ListMemberItemsResponse *response);

/* site: one item with its layers, whatever its status (drafts only for
 * admin callers). */
int ks__GetItem(  // @resendable
    int itemId 1,
    struct ks__GetItemResponse *response);

/* site: every scene (album background), at most 1000. */
int ks__ListScenes(  // @resendable
    struct ks__ListScenesResponse *response);

/* site: take an album photo: the scene's background, the member's avatar in
 * slot 0 and up to 4 friends' avatars in the next slots (as they are now),
 * composed as a JPEG on the member's image server. The photo records the
 * scene and every avatar's item layers, so it can be rebuilt. caption: up to
 * 200 bytes. Avatars are drawn from the last slot to the first: the member
 * stands in front. */
int ks__CreateAlbumPhoto(
    char *userId 1,
    int sceneId 1,
    int __sizefriendUserId 0,
    char **friendUserId 0,
    char *caption 0,
    struct ks__CreateAlbumPhotoResponse *response);

/* site: a member's album photos, newest first, a page at a time (limit 1 to
 * 100, default 50). */
int ks__ListAlbumPhotos(  // @resendable
    char *userId 1,
    int *offset 0,
    int *limit 0,
    struct ks__ListAlbumPhotosResponse *response);

/* site: delete one of a member's album photos and its image. */
int ks__DeleteAlbumPhoto(
    char *userId 1,
    int photoId 1,
    struct ks__DeleteAlbumPhotoResponse *response);

/* admin: change an item. Each field given replaces the stored one; status is
 * draft or published (a retired item is published again). New layers (1 to 8
 * full-canvas PNGs) replace all the item's layers: the old art is archived
 * (album photos refer to it) and every avatar wearing the item is queued to be
 * composed again in the background (avatarsQueued counts them).
 * availableFrom/availableUntil set the item's window (each given one
 * replaces its side); clearWindow true removes both sides first (see
 * "Time-limited items" at the end). hide replaces the item's hide rules,
 * clearHides removes them all; either queues the wearers too. */
int ks__UpdateItem(
    int itemId 1,
    char *name 0,
    int *price 0,
    char *status 0,
    int __sizelayer 0,
    struct ks__LayerInput *layer 0,
    time_t *availableFrom 0,
    time_t *availableUntil 0,
    enum xsd__boolean *clearWindow 0,
    int __sizehide 0,
    struct ks__HideRule *hide 0,
    enum xsd__boolean *clearHides 0,
    struct ks__UpdateItemResponse *response);

/* admin: retire an item: it can no longer be granted, is no longer listed and
 * cannot be put on again. Owners keep it, and those who wear it keep wearing
 * it (wornBy counts them) until they take it off. The default item of a
 * category cannot be retired (Conflict): make another item the default first. */
int ks__RetireItem(
    int itemId 1,
    struct ks__RetireItemResponse *response);

/* admin: register an album scene: a background PNG (at least the avatar canvas,
 * at most 2048x2048) and 1 to 5 slots where avatars stand; each slot must
 * hold a whole avatar canvas inside the background. */
int ks__RegisterScene(
    char *name 1,
    struct xsd__base64Binary png 1,
    int __sizeslot 1,
    struct ks__SceneSlot *slot 1,
    struct ks__RegisterSceneResponse *response);

/* admin: the image servers of the cluster. */
int ks__ListImageServers(  // @resendable
    struct ks__ListImageServersResponse *response);

/* admin: set an image server's mode: active, draining or down. */
int ks__SetImageServerMode(  // @resendable
    char *name 1,
    char *mode 1,
    struct ks__SetImageServerModeResponse *response);

struct ks__SetImageServerWeightResponse { struct ks__ImageServer *server 1; };

/* admin: set an image server's weight (1..1000), its share of new members:
 * a new member goes to the active server with the fewest members per unit
 * of weight. A server's registration gives the weight of its configuration
 * only when it registers for the first time; later this call decides. */
int ks__SetImageServerWeight(  // @resendable
    char *name 1,
    int weight 1,
    struct ks__SetImageServerWeightResponse *response);

struct ks__MoveAvatarsResponse {
    int moved 1;                        /* members moved by this call */
    int remaining 1;                    /* members still on from */
    int photosKept 1;                   /* album photos left on from (see below) */
    char *stoppedBy 0;                  /* why the call stopped before limit, if it did */
};

/* admin: move up to limit (1..1000) members from image server `from` to the
 * active server `to`. Each member moves in a transaction of its own: its
 * avatar is composed on `to` at a new version and its album photos are
 * composed there again; only then is it assigned to `to`. Its files on
 * `from` are removed afterwards when `from` answers (`from` may be down).
 * Photos drawn with item art replaced since are composed from the archived
 * art; one whose art the database no longer has at all cannot be composed
 * again and stays on `from` (photosKept). The call stops at the
 * first member that fails (stoppedBy says why; a fault when none moved), so
 * call it again until remaining is 0. */
int ks__MoveAvatars(
    char *from 1,
    char *to 1,
    int limit 1,
    struct ks__MoveAvatarsResponse *response);

/* site: create a member's avatar, wearing the default item of each required
 * category. imageServer names the image server to hold it (default: the
 * active server with the most free weighted capacity). */
int ks__CreateAvatar(
    char *userId 1,
    char *imageServer 0,
    struct ks__CreateAvatarResponse *response);

/* site: a member's avatar. With minVersion, an answer older than that version
 * is never given (a replica that is behind is bypassed). */
int ks__GetAvatar(  // @resendable
    char *userId 1,
    int *minVersion 0,
    struct ks__GetAvatarResponse *response);

/* site: give a member an item. Granting an owned item again is not an error. */
int ks__GrantItem(  // @resendable
    char *userId 1,
    int itemId 1,
    struct ks__GrantItemResponse *response);

/* site: put items on and take items off, then re-render the avatar. Wearing
 * an item of an exclusive category takes off the one worn there. colour
 * (tints): "#RRGGBB" for items worn after the call that have a tintable
 * layer (InvalidArgument otherwise, nothing changed); kept while the item
 * stays on. A new colour alone is a change; the same colour again is none. */
int ks__ChangeOutfit(  // @resendable
    char *userId 1,
    int __sizewear 0,
    int *wear 0,
    int __sizeremove 0,
    int *remove 0,
    int __sizecolour 0,
    struct ks__ItemColour *colour 0,
    struct ks__ChangeOutfitResponse *response);

/* ---- GetSystemStatus (admin) ------------------------------------------------ */

//gsoap ks service method-action: GetSystemStatus urn:kisekae:v1#GetSystemStatus
//gsoap ks service method-fault:  GetSystemStatus ks__KisekaeFault

/* One server of the database pool, as the API server that answers sees it
 * (each API server has its own pool and counters). state: healthy; shunned
 * (it answers, but its replication is stopped, broken or lags more than
 * maxLagSeconds); down (it does not answer); pending (not checked yet). */
struct ks__SystemDbServer {
    char *role 1;                       /* master | replica */
    char *address 1;                    /* host:port */
    int weight 1;                       /* share of the reads */
    char *state 1;
    int *lagSeconds 0;                  /* Seconds_Behind_Master; absent for the master or when unknown */
    LONG64 readsServed 1;               /* read statements it answered since the API server started */
    char *reason 0;                     /* why it is not healthy */
};

/* A row of image_servers. */
struct ks__SystemImageServer {
    int id 1;
    char *name 1;
    char *internalUrl 1;
    char *publicUrl 1;
    int weight 1;
    char *mode 1;                       /* active | draining | down */
    int memberCount 1;
    time_t *lastHeartbeat 0;
    LONG64 *freeDiskBytes 0;
    LONG64 *itemsStored 0;              /* from its last heartbeat */
    LONG64 *avatarsComposed 0;          /* from its last heartbeat */
    enum xsd__boolean *downBySilence 0; /* down because its heartbeats stopped */
};

struct ks__SystemCounts {
    LONG64 members 1;
    LONG64 items 1;
    LONG64 categories 1;
};

struct ks__GetSystemStatusResponse {
    int poolGeneration 1;               /* 1, then +1 per configuration reload (SIGHUP) */
    int maxLagSeconds 1;
    int __sizedbServer 0;
    struct ks__SystemDbServer *dbServer 0;   /* the master first */
    int __sizeimageServer 0;
    struct ks__SystemImageServer *imageServer 0;
    struct ks__SystemCounts *counts 0;  /* absent when the database could not be read */
    char *databaseError 0;              /* why imageServer and counts are missing */
};

/* admin: the health of the platform: the database pool (servers, their
 * state, lag and reads served), the image servers, and counts of members,
 * items and categories. */
int ks__GetSystemStatus(  // @resendable
    struct ks__GetSystemStatusResponse *response);

/* ---- node: the image servers' own calls ---------------------------------------- */

struct ks__RegisterImageServerResponse { struct ks__ImageServer *server 1; };

/* node: an image server announces itself at start (insert, or a sign of
 * life by name). A new server starts active; a server an admin set draining
 * or down keeps that mode; one marked down because it fell silent becomes
 * active again. A node credential acts for its own server only (Forbidden
 * otherwise), and a registered server's URLs change only by an admin
 * (Conflict when they differ). The answer is its row, as the API will use
 * it. */
int ks__RegisterImageServer(  // @resendable
    char *name 1,                       /* 1..64 of [A-Za-z0-9._-] */
    char *internalUrl 1,                /* http(s)://... the API calls */
    char *publicUrl 1,                  /* http(s)://... base of the image URLs */
    int weight 1,                       /* 1..1000: share of new members */
    struct ks__RegisterImageServerResponse *response);

struct ks__HeartbeatResponse { char *mode 1; };

/* node: a registered image server says it is alive, with its counts and free
 * disk. A server the API marked down because it fell silent becomes active
 * again; one an admin set down stays down. The answer is its mode.
 * NotFound when the server is not registered (register, then beat again). */
int ks__Heartbeat(  // @resendable
    char *name 1,
    LONG64 itemsStored 1,               /* item layers in its store */
    LONG64 avatarsComposed 1,           /* avatars composed since it started */
    LONG64 storeFreeBytes 1,            /* free bytes on its store's file system */
    struct ks__HeartbeatResponse *response);

/* One layer of the catalog as the database holds it. */
struct ks__ManifestLayer {
    int itemId 1;
    int layerNo 1;
    char *sha256 1;
};

struct ks__GetCatalogManifestResponse {
    LONG64 total 1;                     /* layers in the whole manifest */
    int __sizelayer 0;
    struct ks__ManifestLayer *layer 0;  /* ordered by itemId, then layerNo */
};

/* node: the item layers every image server must hold (those of every item,
 * whatever its status: retired items may still be worn), one page at a time.
 * offset 0..10000000 (default 0), limit 1..1000 (default 500). */
int ks__GetCatalogManifest(  // @resendable
    int *offset 0,
    int *limit 0,
    struct ks__GetCatalogManifestResponse *response);

struct ks__GetItemLayerResponse {
    int itemId 1;
    int layerNo 1;
    char *sha256 1;                     /* of png */
    struct xsd__base64Binary png 1;     /* the canonical (trimmed) PNG */
};

/* node, admin: the canonical PNG of an item layer, from the database. With sha256,
 * the art of that sha256: the current one or old art replaced since (album
 * photos drawn with it are composed again from it); NotFound when the layer
 * never had it. */
int ks__GetItemLayer(  // @resendable
    int itemId 1,
    int layerNo 1,
    char *sha256 0,
    struct ks__GetItemLayerResponse *response);

struct ks__GetImageRecipeResponse {
    char *imageServer 1;                /* the image server that holds the image */
    char *publicUrl 1;                  /* that server's public base URL */
    int version 1;                      /* the member's current avatar version */
    char *path 1;                       /* the image's store path (avatars/ab/cd/<user>/<version>.png or albums/ab/cd/<user>/<photo>.jpg) */
    char *thumbPath 1;                  /* the avatar's thumbnail path; "" for a photo */
    char *route 1;                      /* "compose" or "album": the /internal/ route recipe is a body of */
    char *recipe 1;                     /* that body, exactly as the API sends it; "" unless the caller is imageServer */
};

/* node: how to compose again a member's current avatar (without photoId) or
 * one of its album photos, and which image server holds it: an image server
 * whose file went missing rebuilds it from this. The recipe is given only to
 * the image server that holds the image (a node credential acts for one
 * server); another gets where it is, with recipe "". NotFound: no such
 * member or photo. Without minVersion it is read from the database master.
 * With minVersion (the version a browser asked for; any for a photo) a
 * replica answers when it knows the member at that version or newer (and the
 * photo); otherwise the master does, so the answer is never older than
 * minVersion when the master has it. */
int ks__GetImageRecipe(  // @resendable
    char *userId 1,
    int *photoId 0,
    int *minVersion 0,
    struct ks__GetImageRecipeResponse *response);

struct ks__GetSceneBackgroundResponse {
    int sceneId 1;
    char *sha256 1;                     /* of png */
    struct xsd__base64Binary png 1;
};

/* node, admin: an album scene's background PNG, from the database. */
int ks__GetSceneBackground(  // @resendable
    int sceneId 1,
    struct ks__GetSceneBackgroundResponse *response);

/* ---- Batch: kisekae-batch's operations (admin) ---------------------------------------- */

//gsoap ks service method-action: ListAvatarsByServer urn:kisekae:v1#ListAvatarsByServer
//gsoap ks service method-fault:  ListAvatarsByServer ks__KisekaeFault
//gsoap ks service method-action: RebuildAvatars urn:kisekae:v1#RebuildAvatars
//gsoap ks service method-fault:  RebuildAvatars ks__KisekaeFault
//gsoap ks service method-action: SyncImageServer urn:kisekae:v1#SyncImageServer
//gsoap ks service method-fault:  SyncImageServer ks__KisekaeFault

/* One member of an image server, as the batch tool pages through them. */
struct ks__ServerMember {
    char *userId 1;
    int version 1;
    int albumPhotos 1;                  /* album photos stored on its server */
};

struct ks__ListAvatarsByServerResponse {
    int __sizemember 0;
    struct ks__ServerMember *member 0;  /* ordered by userId */
    char *next 0;                       /* pass as `after` for the next page; absent at the end */
    int memberCount 1;                  /* the server's member count now (image_servers.member_count) */
};

/* admin: the members assigned to an image server, a page at a time in
 * userId order with a keyset cursor: page one million costs what page one
 * does. limit 1..1000 (default 500). NotFound: no such server. */
int ks__ListAvatarsByServer(char *server 1, char *after 0, int *limit 0,  // @resendable
                            struct ks__ListAvatarsByServerResponse *response);

/* What RebuildAvatars did for one member. status:
 *   unchanged  every image of the member was already on disk, byte for byte
 *   written    at least one image was missing or differed, and was written
 *   missing    (checkOnly) at least one image is missing on the server
 *   differs    (checkOnly) at least one image differs from what its recipe composes
 *   moved      the member is no longer on that server (nothing done)
 *   notfound   no such member (deleted meanwhile; nothing done)
 *   failed     code/message say why (ImageServerUnavailable, ...) */
struct ks__RebuildResult {
    char *userId 1;
    char *status 1;
    int version 1;                      /* the avatar version composed */
    int images 1;                       /* images composed: avatar + thumbnail + photos */
    int imagesWritten 1;                /* of them written (or, with checkOnly, found missing or different) */
    char *code 0;                       /* a stable fault code, when failed */
    char *message 0;
};

struct ks__RebuildAvatarsResponse {
    int __sizeresult 0;
    struct ks__RebuildResult *result 0; /* one per userId, in the order asked */
};

/* admin: compose again, on image server `server`, every image of up to 100
 * members (their avatar, thumbnail and album photos), from what the database
 * records, AT THE MEMBERS' CURRENT VERSIONS: a member whose outfit did not
 * change gets the same bytes at the same URL. The image server composes the
 * whole batch in one request and writes only the files that are missing or
 * differ. checkOnly: compare and write nothing (an audit). A member moved
 * or deleted meanwhile is reported, not an error. Faults only for the call
 * as a whole: NotFound (no such server), InvalidArgument, TooLarge (over 100),
 * ImageServerUnavailable (the server did not answer: nothing changed). */
int ks__RebuildAvatars(char *server 1, int __sizeuserId 1, char **userId 1,  // @resendable
                       enum xsd__boolean *checkOnly 0,
                       struct ks__RebuildAvatarsResponse *response);

struct ks__SyncImageServerResponse {
    int layersChecked 1;                /* layers of the catalog manifest (current and archived art) */
    int missing 1;                      /* not on the server: fetched */
    int stale 1;                        /* on the server with another sha256: fetched again */
    int extra 1;                        /* on the server, not in the manifest */
    int failed 1;                       /* could not be fetched (see the server's log) */
};

/* admin: the image server checks every item layer in its store (and the
 * archived art it keeps) against the catalog manifest by sha256, now, and
 * fetches what is missing or differs. ImageServerUnavailable when it does
 * not answer. */
int ks__SyncImageServer(  // @resendable
    char *server 1, struct ks__SyncImageServerResponse *response);

/* ---- Admin UI: the catalog as staff see it (admin) ------------------------------ */

//gsoap ks service method-action: SearchItems urn:kisekae:v1#SearchItems
//gsoap ks service method-fault:  SearchItems ks__KisekaeFault

struct ks__SearchItemsResponse {
    int total 1;                        /* items matching the filters, on every page */
    int __sizeitem 0;
    struct ks__Item *item 0;            /* ordered by id, with their layers */
    int *nextAfterId 0;                 /* afterId of the next page; absent on the last */
};

/* admin: items of every status (draft, published, retired) or of one
 * (status), optionally of one category (categoryId) and whose name contains
 * nameContains (1..64 bytes, case-insensitive), a page at a time by id: the
 * items with an id above afterId (default 0), at most limit (1..100,
 * default 50). */
int ks__SearchItems(  // @resendable
    int *categoryId 0,
    char *status 0,
    char *nameContains 0,
    int *afterId 0,
    int *limit 0,
    struct ks__SearchItemsResponse *response);

//gsoap ks service method-action: UpdateCategory urn:kisekae:v1#UpdateCategory
//gsoap ks service method-fault:  UpdateCategory ks__KisekaeFault

struct ks__UpdateCategoryResponse { struct ks__Category *category 1; };

/* admin: change a category. Each field given replaces the stored one.
 * zOrder is what layers registered later take when they give none (stored
 * layers keep theirs); exclusive and required apply to outfit changes from
 * now on. defaultItemId must name a published item of the category (0
 * clears it); a required category must keep a default item (Conflict). */
int ks__UpdateCategory(  // @resendable
    int categoryId 1,
    char *name 0,
    int *zOrder 0,
    enum xsd__boolean *exclusive 0,
    enum xsd__boolean *required 0,
    int *defaultItemId 0,
    struct ks__UpdateCategoryResponse *response);

/* ---- Admin UI: members as staff see them (admin) ---------------------------------- */

//gsoap ks service method-action: SearchMembers urn:kisekae:v1#SearchMembers
//gsoap ks service method-fault:  SearchMembers ks__KisekaeFault
//gsoap ks service method-action: MoveAvatar urn:kisekae:v1#MoveAvatar
//gsoap ks service method-fault:  MoveAvatar ks__KisekaeFault

/* A member in a list: who, the avatar's version, and where its images are. */
struct ks__MemberSummary {
    char *userId 1;
    int version 1;
    char *imageServer 1;
};

struct ks__SearchMembersResponse {
    int __sizemember 0;
    struct ks__MemberSummary *member 0; /* ordered by userId (byte order) */
    char *nextAfterUserId 0;            /* afterUserId of the next page; absent on the last */
};

/* admin: members whose user id starts with userIdPrefix (0..64 characters of
 * a user id; absent or empty: every member), optionally only those on the
 * image server imageServer, a page at a time by user id: the members whose
 * id sorts after afterUserId (byte order), at most limit (1..100, default
 * 50). NotFound when imageServer names no image server. */
int ks__SearchMembers(  // @resendable
    char *userIdPrefix 0,
    char *imageServer 0,
    char *afterUserId 0,
    int *limit 0,
    struct ks__SearchMembersResponse *response);

struct ks__MoveAvatarResponse {
    struct ks__Avatar *avatar 1;        /* on `to`, at a new version */
    char *from 1;                       /* the image server it left */
    int photosKept 1;                   /* album photos left on `from` (see MoveAvatars) */
};

/* admin: move one member to the active image server `to`, as MoveAvatars
 * moves each member (its avatar composed on `to` at a new version, its album
 * photos composed there again, then its files on `from` removed). NotFound
 * for an unknown member or server; Conflict when `to` is not active or the
 * member is on `to` already. */
int ks__MoveAvatar(
    char *userId 1,
    char *to 1,
    struct ks__MoveAvatarResponse *response);

/* ---- ImportMembers (admin) -------------------------------------------------- */

//gsoap ks service method-action: ImportMembers urn:kisekae:v1#ImportMembers
//gsoap ks service method-fault:  ImportMembers ks__KisekaeFault

/* A member of an existing site as ImportMembers brings it in: what it owns
 * and what it wears. */
struct ks__ImportMember {
    char *userId 1;
    int __sizeownedItemId 0;
    int *ownedItemId 0;                 /* its inventory: 0..1000 distinct items */
    int __sizewornItemId 0;
    int *wornItemId 0;                  /* what it wears: 0..64 distinct owned items */
};

struct ks__ImportMembersResponse {
    int imported 1;                     /* members this call created */
    int unchanged 1;                    /* members that already existed with the same items */
};

/* admin: bring up to 1000 members of an existing site in at once, with their
 * inventories and outfits. Each new member is assigned to an active image
 * server by the rule CreateAvatar follows (the fewest members per unit of
 * weight, counting those this call assigns) and recorded at its first
 * version WITHOUT composing: its image is composed on its first request by
 * the image server's rebuild path (or ahead of time by the batch tool), so a
 * site can import millions of members quickly.
 *
 * Every item must exist and not be a draft (published or retired); worn
 * items must be owned, at most one per exclusive category, and every
 * required category must have an item worn. Any fault changes nothing for
 * the whole call: InvalidArgument (naming member[i] and its field: a bad
 * userId, a userId twice in the call, an item twice in a list, a worn item
 * not owned, a category rule broken, a draft item), NotFound (an item that
 * does not exist), TooLarge (over 1000 members or a list over its limit),
 * ImageServerUnavailable (no active image server).
 *
 * Sending the same call again imports nothing twice: a member that already
 * exists with exactly the owned and worn items given is counted unchanged;
 * one that exists with other items is a Conflict for the whole call (change
 * an existing member with GrantItem, RevokeItem and ChangeOutfit). */
int ks__ImportMembers(
    int __sizemember 1,
    struct ks__ImportMember *member 1,
    struct ks__ImportMembersResponse *response);

/* ---- Webhooks (admin) ------------------------------------------------------------ */

//gsoap ks service method-action: RegisterWebhook urn:kisekae:v1#RegisterWebhook
//gsoap ks service method-fault:  RegisterWebhook ks__KisekaeFault
//gsoap ks service method-action: ListWebhooks urn:kisekae:v1#ListWebhooks
//gsoap ks service method-fault:  ListWebhooks ks__KisekaeFault
//gsoap ks service method-action: DeleteWebhook urn:kisekae:v1#DeleteWebhook
//gsoap ks service method-fault:  DeleteWebhook ks__KisekaeFault
//gsoap ks service method-action: ListWebhookDeliveries urn:kisekae:v1#ListWebhookDeliveries
//gsoap ks service method-fault:  ListWebhookDeliveries ks__KisekaeFault
//gsoap ks service method-action: RedeliverWebhookEvent urn:kisekae:v1#RedeliverWebhookEvent
//gsoap ks service method-fault:  RedeliverWebhookEvent ks__KisekaeFault

/* A site's endpoint for events. When a member's avatar changes, the API
 * records an event in the same transaction as the change, and a background
 * sender on the API servers POSTs it to every webhook subscribed to its type:
 * a JSON body {"id", "type", "created", "data": {"userId", "version",
 * "imageUrl", "thumbnailUrl", ...}} with the headers X-Kisekae-Event-Id,
 * X-Kisekae-Event-Type and X-Kisekae-Signature: "t=<unix time>,v1=<hex>",
 * the HMAC-SHA256 under the webhook's secret of "<unix time>.<body>". A 2xx
 * answer delivers it; anything else is tried again with exponential backoff
 * (10 s doubling up to an hour between tries) for 48 hours. Delivery is at
 * least once: de-duplicate by the event id. The events of one member reach
 * one webhook in the order they happened (a later one waits while an earlier
 * one is being retried).
 *
 * Event types: avatar.changed (what it wears changed: ChangeOutfit,
 * RevokeItem of a worn item, an item's end), avatar.regenerated,
 * avatar.moved (to another image server), avatar.deleted. */
struct ks__Webhook {
    int id 1;
    char *url 1;                        /* http:// or https://, at most 1024 characters */
    int __sizeevent 1;
    char **event 1;                     /* the event types it receives */
    time_t createdAt 1;
};

struct ks__RegisterWebhookResponse {
    struct ks__Webhook *webhook 1;
};

/* admin: register url to receive the event types named (1 to 4 of the types
 * above, each once), signed with secret (16..128 printable characters; kept
 * by the API to sign, never answered back). InvalidArgument for another
 * scheme than http(s), an unknown event type or a short secret; TooLarge
 * over 64 webhooks. */
int ks__RegisterWebhook(
    char *url 1,
    char *secret 1,
    int __sizeevent 1,
    char **event 1,
    struct ks__RegisterWebhookResponse *response);

struct ks__ListWebhooksResponse {
    int __sizewebhook 0;
    struct ks__Webhook *webhook 0;     /* ordered by id */
};

/* admin: every registered webhook. */
int ks__ListWebhooks(  // @resendable
    struct ks__ListWebhooksResponse *response);

struct ks__DeleteWebhookResponse {
    int deleted 1;                      /* 1, or 0 when there was no such webhook */
};

/* admin: remove webhook id and its pending deliveries (idempotent). */
int ks__DeleteWebhook(  // @resendable
    int id 1,
    struct ks__DeleteWebhookResponse *response);

/* One event's delivery to one webhook. */
struct ks__WebhookDelivery {
    LONG64 eventId 1;
    char *type 1;                       /* the event type */
    char *userId 1;
    char *state 1;                      /* pending | delivered | failed (gave up) */
    int attempts 1;                     /* POSTs made */
    int lastStatus 1;                   /* HTTP status of the last try; 0: none or no answer */
    char *lastError 1;                  /* why the last try failed; empty when none */
    time_t createdAt 1;                 /* when the event happened */
    time_t *nextAttemptAt 0;            /* pending: when it is tried next */
    time_t *deliveredAt 0;              /* delivered: when */
};

struct ks__ListWebhookDeliveriesResponse {
    int __sizedelivery 0;
    struct ks__WebhookDelivery *delivery 0;   /* newest first */
    LONG64 *nextBeforeEventId 0;        /* beforeEventId of the next page; absent on the last */
};

/* admin: the delivery log of webhook id, newest first, a page at a time:
 * the events before beforeEventId (absent: from the newest), at most limit
 * (1..100, default 50), only those in state when given. NotFound for an
 * unknown webhook; InvalidArgument for an unknown state. */
int ks__ListWebhookDeliveries(  // @resendable
    int id 1,
    char *state 0,
    LONG64 *beforeEventId 0,
    int *limit 0,
    struct ks__ListWebhookDeliveriesResponse *response);

struct ks__RedeliverWebhookEventResponse {
    struct ks__WebhookDelivery *delivery 1;   /* pending again, due at once */
};

/* admin: deliver event eventId to webhook id again (delivered or given up
 * before: it is sent once more, attempts counted afresh). NotFound when the
 * webhook never had that event. */
int ks__RedeliverWebhookEvent(
    int id 1,
    LONG64 eventId 1,
    struct ks__RedeliverWebhookEventResponse *response);

/* ---- Time-limited items -----------------------------------------------------------
 *
 * An item can have a window (RegisterItem, UpdateItem: availableFrom,
 * availableUntil, either or both; until must be after from, else
 * InvalidArgument). Outside its window the item cannot
 * be granted (GrantItem) nor put on (ChangeOutfit): a Conflict fault whose
 * message names the window (the call may succeed later, or did before: the
 * state, not the argument, is wrong). PreviewAvatar still previews it (a shop
 * can show an item coming soon); members who own it keep it. At its end the
 * API tier takes it off every wearer in the background, within a few seconds:
 * each wearer's version rises, composed without it, with the category's
 * default item put on where the category is required and nothing else of it
 * is worn (unless that default ended too), and an avatar.changed webhook
 * event. The outfit an avatar answer
 * lists always matches its image: the item comes off in the same transaction
 * as the new version is composed. */

/* ---- PurgeImageServer ------------------------------------------------------------ */

//gsoap ks service method-action: PurgeImageServer urn:kisekae:v1#PurgeImageServer
//gsoap ks service method-fault:  PurgeImageServer ks__KisekaeFault

struct ks__PurgeImageServerResponse {
    char *name 1;                       /* the server purged */
    int replicasRemoved 1;              /* its item_replicas rows */
    int deletionsRemoved 1;             /* its queued image deletions */
};

/* admin: remove image server name for good: its row and the rows that only
 * point at it (item replicas, queued image deletions). The server must be
 * down or draining and hold no members nor album photos: Conflict (naming
 * why) otherwise; NotFound for an unknown name. The name can register again
 * afterwards (RegisterImageServer by its node credential, or `kisekae-api
 * --set-image-server`) as a new server with a new id. */
int ks__PurgeImageServer(
    char *name 1,
    struct ks__PurgeImageServerResponse *response);
/* ---- Tints and hide rules ---------------------------------------------------------
 * Tints: a layer marked tintable is recoloured when its item is worn with a
 * colour: each colour channel multiplied by the colour's (c * T / 255, in
 * premultiplied integers; alpha untouched), so art drawn in greys takes the
 * colour with its shading. Hide rules: while an item is worn, each of its
 * rules hides the layers of the OTHER worn items of categoryId: only those
 * whose role is role, or all of them without role. */

/* A colour for a worn item: "#RRGGBB" (answers give it uppercase). */
struct ks__ItemColour {
    int itemId 1;
    char *colour 1;
};

/* One hide rule of an item. */
struct ks__HideRule {
    int categoryId 1;
    char *role 0;                       /* 1..16 of [a-z0-9_-]; absent: every layer of the category */
};
