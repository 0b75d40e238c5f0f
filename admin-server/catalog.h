/* catalog.h: what the catalog pages (items, categories, scenes) share: the
 * SOAP calls they all make, the layer files of an upload form, and the
 * images the admin server draws itself with the platform's own compositor
 * (common/compose.c): an item's thumbnail and the preview of unsaved art
 * on the mannequin. */
#ifndef KS_ADMIN_CATALOG_H
#define KS_ADMIN_CATALOG_H

#include "admin.h"
#include "image.h"
#include "soapH.h"

#define KS_CATALOG_LAYERS_MAX 8
/* Frames after the first of one animated layer (LayerInput.frame; the API
 * allows 64 frames in all, and 64 after the first ones in one item). */
#define KS_CATALOG_FRAMES_MAX 63
/* A frame's delay in milliseconds (FrameInput.delayMs). */
#define KS_CATALOG_DELAY_MIN 20
#define KS_CATALOG_DELAY_MAX 65535

/* ListCategories into *out (valid until the request ends). */
ks_rc ks_catalog_categories(ks_admin_req_t *req, struct ks__ListCategoriesResponse **out);
/* The category of id in list, or NULL. */
const struct ks__Category *ks_catalog_category(const struct ks__ListCategoriesResponse *list,
                                               int id);
/* GetItem into *out. */
ks_rc ks_catalog_item(ks_admin_req_t *req, int id, struct ks__Item **out);

/* One uploaded layer of a form (fields layer1..layer8, z1..z8, tint1..tint8
 * and role1..role8; an animated layer's frames after its own PNG in
 * frames<n>, a file input taking several files, shown delay<n> ms each). */
typedef struct {
    int index;                     /* 1..8: which slot of the form */
    const unsigned char *png;      /* in the request's form */
    size_t size;
    const char *filename;
    int has_z;
    int z;
    int tintable;                  /* tint<n> checked: recoloured when worn with a colour */
    const char *role;              /* role<n> (hide rules), or NULL when empty */
    const ks_form_field_t *frames[KS_CATALOG_FRAMES_MAX];   /* frames<n>, in the form's order */
    int frame_count;               /* 0: a still layer */
    int delay_ms;                  /* delay<n>, or 0 for the API's default */
} ks_upload_t;

/* The layer files of the form, in slot order, into out (at most
 * KS_CATALOG_LAYERS_MAX): *count of them. A file that is not a PNG, a bad
 * z-order or delay, frames without their layer's own PNG, more frames than
 * KS_CATALOG_FRAMES_MAX or a file the form refused (too large, too many)
 * is KS_INVALID with the reason for the person in why. */
ks_rc ks_catalog_uploads(ks_admin_req_t *req, ks_upload_t *out, int *count, char *why,
                         size_t why_size);

/* Draws item's layers (fetched with GetItemLayer) cropped to their box, as
 * a PNG in *png (malloc'd, owned by the caller). */
ks_rc ks_catalog_item_png(ks_admin_req_t *req, const struct ks__Item *item, unsigned char **png,
                          size_t *size, char *why, size_t why_size);

/* The preview of unsaved layers on the mannequin: the mannequin (created
 * through the API when missing) wearing preview_outfit, drawn by
 * PreviewAvatar; the uploads (z-order: their own or default_z) go behind it
 * when below its lowest layer, in front otherwise. *png is malloc'd. */
ks_rc ks_catalog_preview(ks_admin_req_t *req, const ks_upload_t *uploads, int count,
                         int default_z, unsigned char **png, size_t *size, char *why,
                         size_t why_size);

/* item (its layers from GetItemLayer) on the mannequin, as
 * ks_catalog_preview draws new art. *png is malloc'd. */
ks_rc ks_catalog_item_preview(ks_admin_req_t *req, const struct ks__Item *item,
                              unsigned char **png, size_t *size, char *why, size_t why_size);

/* The mannequin as PreviewAvatar draws it (premultiplied, owned by the
 * caller: ks_image_free), and the lowest z-order of what it wears. */
ks_rc ks_catalog_mannequin(ks_admin_req_t *req, ks_image_t *image, int *lowest_z, char *why,
                           size_t why_size);

/* An uploaded PNG decoded (at most 2048 x 2048) and premultiplied; the
 * reason in why. */
ks_rc ks_catalog_decode(const void *png, size_t size, ks_image_t *out, char *why,
                        size_t why_size);
/* image as a PNG in *png (malloc'd). */
ks_rc ks_catalog_encode(const ks_image_t *image, unsigned char **png, size_t *size, char *why,
                        size_t why_size);

#endif
