<?php
/* album.php: the member's album: the form that takes a photo (a scene, up to
 * four friends, a caption) and the photos, newest first, each with a delete
 * form. Variables: $scenes, $sceneBase (the image server with the scenes'
 * pictures, or null), $sceneNames, $photos (a Page), $friends, $maxFriends. */
$more = $photos->hasMore();
?>
<h1 class="page-title">Album</h1>
<section class="card">
  <h2>Take a photo</h2>
  <?php if (!$scenes): ?>
    <p class="muted">There are no scenes yet: the staff has not registered any backgrounds.</p>
  <?php else: ?>
    <form method="post" action="/album/create" class="photo-form">
      <?= csrf_field() ?>
      <fieldset>
        <legend>Scene</legend>
        <div class="scenes">
          <?php foreach ($scenes as $i => $s): ?>
            <label class="scene">
              <?php if ($sceneBase !== null): ?>
                <img src="<?= h($sceneBase . '/scenes/' . $s->id . '/0.png') ?>" alt="" loading="lazy">
              <?php endif ?>
              <span class="choice">
                <input type="radio" name="scene" value="<?= h($s->id) ?>"<?= $i === 0 ? ' checked' : '' ?>>
                <?= h($s->name) ?> <span class="muted">· room for <?= h(min(4, $s->friendSlots())) ?> friends</span>
              </span>
            </label>
          <?php endforeach ?>
        </div>
      </fieldset>
      <fieldset>
        <legend>Friends (up to <?= h($maxFriends) ?>)</legend>
        <div class="friends pick">
          <?php foreach ($friends as $id): ?>
            <label>
              <img src="<?= h(avatar_link($id, true)) ?>" width="56" height="56" alt="" loading="lazy">
              <span class="choice"><input type="checkbox" name="friend[]" value="<?= h($id) ?>">
                <?= h(display_name($id)) ?></span>
            </label>
          <?php endforeach ?>
        </div>
      </fieldset>
      <label class="field">Caption
        <input type="text" name="caption" maxlength="200" placeholder="A day in the park">
      </label>
      <button type="submit" class="button" id="create-photo">Take the photo</button>
    </form>
  <?php endif ?>
</section>

<section class="card">
  <h2>Your photos <span class="count"><?= h($photos->total) ?></span></h2>
  <?php if (!$photos->entries): ?>
    <p class="muted">No photos yet.</p>
  <?php else: ?>
    <ul class="photos">
      <?php foreach ($photos->entries as $p): ?>
        <li class="photo" data-photo-id="<?= h($p->id) ?>">
          <img src="<?= h($p->url) ?>" alt="<?= h($p->caption ?? 'Album photo') ?>" loading="lazy">
          <div class="photo-meta">
            <strong><?= h($p->caption ?? 'Untitled') ?></strong>
            <span class="muted small"><?= h($sceneNames[$p->sceneId] ?? 'a scene') ?> ·
              <?= h($p->createdAt->format('j M Y, H:i')) ?> UTC</span>
            <?php if ($p->friendUserIds()): ?>
              <span class="small">with <?= h(implode(', ', array_map('display_name', $p->friendUserIds()))) ?></span>
            <?php endif ?>
            <form method="post" action="/album/delete">
              <?= csrf_field() ?>
              <input type="hidden" name="photo" value="<?= h($p->id) ?>">
              <button type="submit" class="button small danger">Delete</button>
            </form>
          </div>
        </li>
      <?php endforeach ?>
    </ul>
    <?php if ($photos->offset > 0 || $more): ?>
      <p class="pager">
        <?php if ($photos->offset > 0): ?><a href="/album?offset=<?= h(max(0, $photos->offset - ALBUM_PAGE)) ?>">Newer</a><?php endif ?>
        <?php if ($more): ?><a href="/album?offset=<?= h($photos->offset + ALBUM_PAGE) ?>">Older</a><?php endif ?>
      </p>
    <?php endif ?>
  <?php endif ?>
</section>
