/* image_skip.h: image servers that just failed to take a new member, which
 * this API server leaves out of the choice for new members for a few
 * seconds (image_skip.c). */
#ifndef KS_API_IMAGE_SKIP_H
#define KS_API_IMAGE_SKIP_H

/* Seconds an image server that failed stays out of the choice. */
#define KS_IMAGE_SKIP_S 10

/* Records that image server id (an image_servers.id) failed just now. */
void ks_image_skip_add(int id);

/* Writes the ids of the servers that failed within the last KS_IMAGE_SKIP_S
 * seconds to ids[0..max); returns how many. */
int ks_image_skip_list(int *ids, int max);

#endif
