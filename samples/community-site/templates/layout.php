<?php
/* layout.php: the frame of every page: the header with the site's name, the
 * navigation and the member switcher, the messages, the page, the footer.
 * Variables: $title, $nav (the current section), $body (the page's HTML),
 * $flashes and $errors (messages). Every value goes through h(). */
$me = current_member();
$sections = ['profile' => 'Profile', 'dressup' => 'Dress-up room', 'shop' => 'Shop', 'album' => 'Album'];
?><!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title><?= h($title) ?> · <?= h(SITE_NAME) ?></title>
<link rel="stylesheet" href="/site.css">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
</head>
<body>
<header class="top">
  <div class="wrap top-inner">
    <a class="brand" href="/profile"><span class="brand-mark">K</span> <?= h(SITE_NAME) ?></a>
    <nav class="nav" aria-label="Sections">
      <?php foreach ($sections as $key => $label): ?>
        <a href="/<?= h($key) ?>"<?= $nav === $key ? ' class="active" aria-current="page"' : '' ?>><?= h($label) ?></a>
      <?php endforeach ?>
    </nav>
    <form class="switcher" method="post" action="/switch">
      <?= csrf_field() ?>
      <input type="hidden" name="back" value="/<?= h($nav ?: 'profile') ?>">
      <label for="member-switch">Logged in as</label>
      <select id="member-switch" name="member">
        <?php foreach (members() as $id): ?>
          <option value="<?= h($id) ?>"<?= $id === $me ? ' selected' : '' ?>><?= h(display_name($id)) ?></option>
        <?php endforeach ?>
      </select>
      <button type="submit" class="button small">Switch</button>
    </form>
  </div>
</header>
<main class="wrap">
  <?php foreach ($flashes as $f): ?>
    <p class="message <?= $f['kind'] === 'ok' ? 'ok' : 'error' ?>" role="status"><?= h($f['text']) ?></p>
  <?php endforeach ?>
  <?php foreach ($errors as $text): ?>
    <p class="message error" role="alert"><?= h($text) ?></p>
  <?php endforeach ?>
  <?= $body ?>
</main>
<footer class="foot wrap">
  <?= h(SITE_NAME) ?> is a demo community built on the kisekae avatar API
  (<code>samples/php</code>). Avatars are served by the API's image servers.
</footer>
</body>
</html>
