<?php
/* profile.php: a member's profile. The avatar and its thumbnail are bare
 * <img>s on the API's /avatar/{id}.png redirects (always the current image).
 * Variables: $who, $me, $avatar, $worn, $owned, $photos, $friends. */
?>
<section class="profile">
  <div class="card avatar-card">
    <img class="avatar-full" id="profile-avatar" src="<?= h(avatar_link($who)) ?>"
         width="240" height="320" alt="<?= h(display_name($who)) ?>'s avatar">
  </div>
  <div class="card profile-info">
    <div class="profile-head">
      <img class="avatar-thumb" id="profile-thumb" src="<?= h(avatar_link($who, true)) ?>"
           width="96" height="96" alt="<?= h(display_name($who)) ?>'s thumbnail">
      <div>
        <h1><?= h(display_name($who)) ?></h1>
        <p class="muted">@<?= h($who) ?><?= $who === $me ? ' · that is you' : '' ?></p>
      </div>
    </div>
    <dl class="stats">
      <div><dt>Outfit version</dt><dd id="avatar-version"><?= h($avatar->version) ?></dd></div>
      <div><dt>Items owned</dt><dd><?= h($owned) ?></dd></div>
      <div><dt>Album photos</dt><dd><?= h($photos) ?></dd></div>
    </dl>
    <h2>Wearing</h2>
    <ul class="chips">
      <?php foreach ($worn as $w): ?>
        <li><span class="chip-cat"><?= h($w['category']) ?></span> <?= h($w['name']) ?></li>
      <?php endforeach ?>
    </ul>
    <?php if ($who === $me): ?>
      <p class="actions">
        <a class="button" href="/dressup">Change my outfit</a>
        <a class="button ghost" href="/shop">Find new items</a>
        <a class="button ghost" href="/album">Take a photo</a>
      </p>
    <?php endif ?>
  </div>
</section>
<section class="card">
  <h2>Friends</h2>
  <ul class="friends">
    <?php foreach ($friends as $id): ?>
      <li>
        <a href="/profile?member=<?= h(rawurlencode($id)) ?>">
          <img src="<?= h(avatar_link($id, true)) ?>" width="72" height="72" alt="" loading="lazy">
          <span><?= h(display_name($id)) ?></span>
        </a>
      </li>
    <?php endforeach ?>
  </ul>
</section>
