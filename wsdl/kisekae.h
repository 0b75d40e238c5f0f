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
};

struct ks__Item {
    int id 1;
    int categoryId 1;
    char *name 1;
    char *status 1;                     /* draft | published | retired */
    int price 1;
    int __sizelayer 0;
    struct ks__Layer *layer 0;
};

/* A member's avatar. url carries the version, so a cached image is never stale. */
struct ks__Avatar {
    char *userId 1;
    int version 1;
    char *imageServer 1;
    char *url 1;
    int __sizewornItemId 0;
    int *wornItemId 0;
};

struct ks__RegisterCategoryResponse { struct ks__Category *category 1; };
struct ks__RegisterItemResponse     { struct ks__Item *item 1; };
struct ks__ListCategoriesResponse   { int __sizecategory 0; struct ks__Category *category 0; };
struct ks__ListItemsResponse        { int total 1; int __sizeitem 0; struct ks__Item *item 0; };
struct ks__CreateAvatarResponse     { struct ks__Avatar *avatar 1; };
struct ks__GetAvatarResponse        { struct ks__Avatar *avatar 1; };
struct ks__GrantItemResponse        { int itemId 1; enum xsd__boolean alreadyOwned 1; };
struct ks__ChangeOutfitResponse     { struct ks__Avatar *avatar 1; };

/* admin: register a category of items. */
int ks__RegisterCategory(
    char *name 1,
    int zOrder 1,
    enum xsd__boolean exclusive 1,
    enum xsd__boolean required 1,
    struct ks__RegisterCategoryResponse *response);

/* admin: register an item with its layers (1 to 8 full-canvas PNGs).
 * status: draft | published (default published). makeDefault makes it the
 * default item of its category. */
int ks__RegisterItem(
    int categoryId 1,
    char *name 1,
    int price 1,
    char *status 0,
    enum xsd__boolean *makeDefault 0,
    int __sizelayer 1,
    struct ks__LayerInput *layer 1,
    struct ks__RegisterItemResponse *response);

/* site: every category, or with name only the category of that name. */
int ks__ListCategories(
    char *name 0,
    struct ks__ListCategoriesResponse *response);

/* site: published items, optionally of one category, a page at a time
 * (limit 1 to 100, default 50). total counts every match. */
int ks__ListItems(
    int *categoryId 0,
    int *offset 0,
    int *limit 0,
    struct ks__ListItemsResponse *response);

/* site: create a member's avatar, wearing the default item of each required
 * category. imageServer names the image server to hold it (default: the
 * active server with the most free weighted capacity). */
int ks__CreateAvatar(
    char *userId 1,
    char *imageServer 0,
    struct ks__CreateAvatarResponse *response);

/* site: a member's avatar. With minVersion, an answer older than that version
 * is never given (a replica that is behind is bypassed). */
int ks__GetAvatar(
    char *userId 1,
    int *minVersion 0,
    struct ks__GetAvatarResponse *response);

/* site: give a member an item. Granting an owned item again is not an error. */
int ks__GrantItem(
    char *userId 1,
    int itemId 1,
    struct ks__GrantItemResponse *response);

/* site: put items on and take items off, then re-render the avatar. Wearing
 * an item of an exclusive category takes off the one worn there. */
int ks__ChangeOutfit(
    char *userId 1,
    int __sizewear 0,
    int *wear 0,
    int __sizeremove 0,
    int *remove 0,
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
int ks__GetSystemStatus(
    struct ks__GetSystemStatusResponse *response);
